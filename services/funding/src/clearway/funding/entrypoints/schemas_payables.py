"""HTTP shapes of payables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clearway.funding.domain.payables import Payable, PayableStatus, PayoutStatus
from clearway.platform.money import PositiveAmountMinor as PositiveAmountMinor  # schemas_fundings reads it here
from clearway.platform.money import is_known_currency
from clearway.platform.pagination import PageParams

METADATA_KEYS_MAX = 50
DESCRIPTION_LENGTH_MAX = 500


def _known_currency(code: str) -> str:
    if not is_known_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency with minor units")
    return code


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]
Metadata = Annotated[dict[str, Any], Field(max_length=METADATA_KEYS_MAX)]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]


class PayableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payee_id: Identifier = Field(description="The payee's ledger identity id.")
    amount_minor: PositiveAmountMinor
    currency: Currency
    description: str = Field(min_length=1, max_length=DESCRIPTION_LENGTH_MAX)
    external_id: Identifier | None = Field(default=None, description="Your own id; unique in the workspace.")
    due_date: date | None = None
    metadata: Metadata = Field(default_factory=dict)


class PayableUpdate(BaseModel):
    """Only the fields given change; possible while the payable is created or unapproved."""

    model_config = ConfigDict(extra="forbid")

    payee_id: Identifier | None = None
    amount_minor: PositiveAmountMinor | None = None
    currency: Currency | None = None
    description: str | None = Field(default=None, min_length=1, max_length=DESCRIPTION_LENGTH_MAX)
    due_date: date | None = None
    metadata: Metadata | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None}


class PayoutOut(BaseModel):
    """What payout reported of the withdrawal paying the payable out; the payable's own status stays `paid`."""

    status: PayoutStatus
    withdrawal_id: str
    receipt: str | None = Field(description="The rail's receipt, once paid out.")
    failure_code: str | None = Field(description="Why the payout failed.")
    updated_at: datetime = Field(description="When payout says the outcome happened.")

    @classmethod
    def from_domain(cls, payable: Payable) -> PayoutOut | None:
        if payable.payout_status is None:
            return None
        assert payable.payout_withdrawal_id is not None and payable.payout_updated_at is not None
        return cls(
            status=payable.payout_status,
            withdrawal_id=payable.payout_withdrawal_id,
            receipt=payable.payout_receipt,
            failure_code=payable.payout_failure_code,
            updated_at=payable.payout_updated_at,
        )


class PayableOut(BaseModel):
    id: str
    status: PayableStatus
    workspace_id: str
    payee_id: str
    amount_minor: int
    currency: str
    description: str
    external_id: str | None
    due_date: date | None
    metadata: dict[str, Any]
    approved_by: str | None
    approved_at: datetime | None
    unapproved_by: str | None
    unapproved_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    funding_id: str | None
    ledger_reference: str | None = Field(description="The ledger transaction reference that paid it.")
    paid_at: datetime | None
    payout: PayoutOut | None = Field(description="Null until payout reports on the paid payable's payout.")
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, payable: Payable) -> PayableOut:
        return cls(
            id=payable.id,
            status=payable.status,
            workspace_id=payable.workspace_id,
            payee_id=payable.payee_id,
            amount_minor=payable.amount_minor,
            currency=payable.currency,
            description=payable.description,
            external_id=payable.external_id,
            due_date=payable.due_date,
            metadata=payable.metadata,
            approved_by=payable.approved_by,
            approved_at=payable.approved_at,
            unapproved_by=payable.unapproved_by,
            unapproved_at=payable.unapproved_at,
            cancelled_by=payable.cancelled_by,
            cancelled_at=payable.cancelled_at,
            funding_id=payable.funding_id,
            ledger_reference=payable.ledger_reference,
            paid_at=payable.paid_at,
            payout=PayoutOut.from_domain(payable),
            created_by=payable.created_by,
            created_at=payable.created_at,
            updated_at=payable.updated_at,
        )


class PayableListParams(PageParams):
    status: PayableStatus | None = None
    payee_id: str | None = Field(default=None, max_length=200)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    external_id: str | None = Field(default=None, max_length=200)
    funding_id: str | None = Field(default=None, max_length=200)
