"""HTTP shapes of links, external transactions and statement imports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clearway.platform.pagination import PageParams
from clearway.reconciliation.domain.external_transactions import Direction, ExternalTransaction, ReconStatus
from clearway.reconciliation.domain.links import DEFAULT_CLEARING_MAX_AGE_S, DEFAULT_DATE_WINDOW_DAYS, Link, LinkKind

CURRENCY = r"^[A-Z]{3}$"


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: LinkKind
    ledger_id: str = Field(min_length=1, max_length=100)
    cash_account_path: str = Field(default="assets/operating", min_length=1, max_length=300)
    currency: str = Field(pattern=CURRENCY)
    external_account_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The account `transfer.created` names (`account_id`)."
    )
    auto_match: bool = True
    clearing_max_age_s: int = Field(default=DEFAULT_CLEARING_MAX_AGE_S, ge=1, le=365 * 24 * 3600)
    date_window_days: int = Field(default=DEFAULT_DATE_WINDOW_DAYS, ge=0, le=60)
    route_account_path: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="A single-purpose route (a virtual account, a paybill number): inbound money no expectation "
        "explains is reconciled to this account, `liabilities/user_balances:<user>`.",
    )


class LinkOut(BaseModel):
    id: str
    name: str
    kind: LinkKind
    ledger_id: str
    cash_account_path: str
    currency: str
    external_account_id: str | None
    auto_match: bool
    clearing_max_age_s: int
    date_window_days: int
    route_account_path: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def from_domain(cls, link: Link) -> LinkOut:
        return cls(
            id=link.id,
            name=link.name,
            kind=link.kind,
            ledger_id=link.ledger_id,
            cash_account_path=link.cash_account_path,
            currency=link.currency,
            external_account_id=link.external_account_id,
            auto_match=link.auto_match,
            clearing_max_age_s=link.clearing_max_age_s,
            date_window_days=link.date_window_days,
            route_account_path=link.route_account_path,
            created_by=link.created_by,
            created_at=link.created_at,
        )


class Counterparty(BaseModel):
    name: str | None
    account: str | None


class ExternalTransactionOut(BaseModel):
    id: str
    link_id: str | None
    external_id: str
    direction: Direction
    amount_minor: int
    currency: str
    reference: str | None
    description: str | None
    booked_at: datetime
    status: ReconStatus
    match_id: str | None
    reconciled_at: datetime | None
    source: str
    processor: str
    account_id: str
    # The processor's own fields, as `transfer.created` named them (kept for clients of the first API).
    transfer_id: str
    payment_reference: str | None
    settled_at: datetime
    counterparty: Counterparty
    created_at: datetime

    @classmethod
    def from_domain(cls, transaction: ExternalTransaction) -> ExternalTransactionOut:
        return cls(
            id=transaction.id,
            link_id=transaction.link_id,
            external_id=transaction.external_id,
            direction=transaction.direction,
            amount_minor=transaction.amount_minor,
            currency=transaction.currency,
            reference=transaction.reference,
            description=transaction.description,
            booked_at=transaction.booked_at,
            status=transaction.status,
            match_id=transaction.match_id,
            reconciled_at=transaction.reconciled_at,
            source=transaction.source.value,
            processor=transaction.processor,
            account_id=transaction.account_id,
            transfer_id=transaction.transfer_id,
            payment_reference=transaction.reference,
            settled_at=transaction.booked_at,
            counterparty=Counterparty(name=transaction.counterparty_name, account=transaction.counterparty_account),
            created_at=transaction.created_at,
        )


class ExternalTransactionListParams(PageParams):
    link_id: str | None = Field(default=None, max_length=100)
    status: ReconStatus | None = None
    unlinked: bool = Field(default=False, description="Only transactions on accounts no link names.")


class UnreconciledParams(PageParams):
    link_id: str | None = Field(default=None, max_length=100)


class StatementImportOut(BaseModel):
    statement_id: str
    imported: int
    skipped_duplicates: int
    opening_balance_minor: int | None
    closing_balance_minor: int | None
