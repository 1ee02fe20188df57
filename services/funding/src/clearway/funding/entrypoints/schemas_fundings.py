"""HTTP shapes of fundings, their invoices, link-deposit and workspace settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from clearway.funding.domain.fundings import FUNDING_PAYABLES_MAX, Funding, FundingKind, FundingStatus
from clearway.funding.domain.invoices import Invoice
from clearway.funding.domain.workspaces import Workspace
from clearway.funding.entrypoints.schemas_payables import Currency, Identifier, PositiveAmountMinor
from clearway.platform.pagination import PageParams

RECEIVING_ACCOUNTS_MAX = 100


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class FundingCreate(BaseModel):
    """`payable_ids` for post-funding, or `amount_minor` + `currency` for a pre-funding top-up invoice."""

    model_config = ConfigDict(extra="forbid")

    payable_ids: Annotated[list[Identifier], Field(min_length=1, max_length=FUNDING_PAYABLES_MAX)] | None = None
    amount_minor: PositiveAmountMinor | None = None
    currency: Currency | None = None
    recipient: RecipientIn

    @model_validator(mode="after")
    def _one_kind(self) -> FundingCreate:
        prefunding = self.amount_minor is not None or self.currency is not None
        if self.payable_ids is not None and prefunding:
            raise ValueError("give payable_ids (post-funding) or amount_minor and currency (pre-funding), not both")
        if self.payable_ids is None and (self.amount_minor is None or self.currency is None):
            raise ValueError("give payable_ids, or amount_minor and currency")
        if self.payable_ids is not None and len(set(self.payable_ids)) != len(self.payable_ids):
            raise ValueError("payable_ids must not repeat")
        return self


class LinkDeposit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: Identifier = Field(description="The `transfer.created` transfer_id.")
    processor: Identifier | None = Field(default=None, description="Needed only if two processors used the id.")


class RecipientOut(BaseModel):
    name: str
    email: str


class InvoiceLineOut(BaseModel):
    description: str
    amount_minor: int
    payable_id: str | None
    payee_id: str | None
    external_id: str | None


class PaymentInstructions(BaseModel):
    payment_reference: str
    amount_minor: int
    currency: str
    bank_name: str
    account_name: str
    account_number: str
    text: str


class InvoiceOut(BaseModel):
    number: str
    funding_id: str
    status: FundingStatus
    issuer: str
    issued_at: datetime
    due_date: date
    recipient: RecipientOut
    currency: str
    lines: list[InvoiceLineOut]
    total_minor: int
    payment_reference: str
    payment_instructions: PaymentInstructions
    document_url: str
    sent_at: datetime | None

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> InvoiceOut:
        funding, terms = invoice.funding, invoice.terms
        return cls(
            number=funding.invoice_number,
            funding_id=funding.id,
            status=funding.status,
            issuer=terms.issuer_name,
            issued_at=funding.created_at,
            due_date=funding.due_date,
            recipient=RecipientOut(name=funding.recipient.name, email=funding.recipient.email),
            currency=funding.currency,
            lines=[
                InvoiceLineOut(
                    description=line.description,
                    amount_minor=line.amount_minor,
                    payable_id=line.payable_id,
                    payee_id=line.payee_id,
                    external_id=line.external_id,
                )
                for line in funding.lines
            ],
            total_minor=funding.total_minor,
            payment_reference=funding.payment_reference,
            payment_instructions=PaymentInstructions(
                payment_reference=funding.payment_reference,
                amount_minor=funding.total_minor,
                currency=funding.currency,
                bank_name=terms.bank_name,
                account_name=terms.account_name,
                account_number=terms.account_number,
                text=(
                    f"Pay exactly {funding.total_minor} {funding.currency} minor units by "
                    f"{funding.due_date.isoformat()} quoting {funding.payment_reference}."
                ),
            ),
            document_url=invoice.document_url,
            sent_at=funding.invoice_sent_at,
        )


class DepositRef(BaseModel):
    deposit_id: str
    processor: str
    transfer_id: str
    account_id: str
    amount_minor: int
    linked_by: str
    linked_at: datetime


class FundingOut(BaseModel):
    id: str
    status: FundingStatus
    kind: FundingKind
    workspace_id: str
    currency: str
    total_minor: int
    payable_ids: list[str]
    recipient: RecipientOut
    invoice: InvoiceOut
    deposit: DepositRef | None
    due_date: date
    expires_at: datetime
    funded_at: datetime | None
    paid_out_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> FundingOut:
        funding: Funding = invoice.funding
        deposit = funding.deposit
        return cls(
            id=funding.id,
            status=funding.status,
            kind=funding.kind,
            workspace_id=funding.workspace_id,
            currency=funding.currency,
            total_minor=funding.total_minor,
            payable_ids=funding.payable_ids,
            recipient=RecipientOut(name=funding.recipient.name, email=funding.recipient.email),
            invoice=InvoiceOut.from_invoice(invoice),
            deposit=DepositRef(
                deposit_id=deposit.deposit_id,
                processor=deposit.processor,
                transfer_id=deposit.transfer_id,
                account_id=deposit.account_id,
                amount_minor=deposit.amount_minor,
                linked_by=deposit.linked_by,
                linked_at=deposit.linked_at,
            )
            if deposit is not None
            else None,
            due_date=funding.due_date,
            expires_at=funding.expires_at,
            funded_at=funding.funded_at,
            paid_out_at=funding.paid_out_at,
            cancelled_by=funding.cancelled_by,
            cancelled_at=funding.cancelled_at,
            created_by=funding.created_by,
            created_at=funding.created_at,
            updated_at=funding.updated_at,
        )


class FundingListParams(PageParams):
    status: FundingStatus | None = None


class WorkspaceOut(BaseModel):
    id: str
    ledger_identity_id: str | None = Field(description="Holds the workspace wallet (`wallet:<identity>`).")
    auto_link_deposits: bool
    receiving_account_ids: list[str] = Field(
        description="The accounts (`transfer.created`'s `account_id`) whose deposits are this workspace's."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, workspace: Workspace) -> WorkspaceOut:
        return cls(
            id=workspace.id,
            ledger_identity_id=workspace.ledger_identity_id,
            auto_link_deposits=workspace.auto_link_deposits,
            receiving_account_ids=list(workspace.receiving_account_ids),
            created_at=workspace.created_at,
            updated_at=workspace.updated_at,
        )


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_link_deposits: bool | None = None
    receiving_account_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=RECEIVING_ACCOUNTS_MAX
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> WorkspaceUpdate:
        if self.auto_link_deposits is None and self.receiving_account_ids is None:
            raise ValueError("give auto_link_deposits, receiving_account_ids or both")
        return self
