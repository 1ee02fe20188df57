"""HTTP shapes of top-ups. Phone numbers go out masked only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from clearway.funding.domain.topups import ResolvedBy, Topup, TopupStatus
from clearway.platform.money import AMOUNT_MINOR_MAX
from clearway.providers.mobile_money import mask_phone


class TopupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX, description="Minor units (KES cents).")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{3}$", description="ISO 4217; the service default (KES) when omitted."
    )
    phone_number: str = Field(min_length=3, max_length=32, description="The paying phone, e.g. 0712 345 678.")
    identity_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "The wallet owner (a ledger identity); the caller's workspace when omitted. End users may omit it"
            " (their own identity) and may not name another (422 IDENTITY_MISMATCH)."
        ),
    )


class TopupOut(BaseModel):
    id: str
    status: TopupStatus
    workspace_id: str
    identity_id: str
    wallet_balance_id: str
    amount_minor: int
    currency: str
    phone_number_masked: str
    provider: str
    account_reference: str
    checkout_request_id: str | None
    merchant_request_id: str | None
    result_code: int | None
    result_desc: str | None
    failure_reason: str | None
    receipt: str | None
    ledger_reference: str | None
    resolved_by: ResolvedBy | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, topup: Topup) -> TopupOut:
        return cls(
            id=topup.id,
            status=topup.status,
            workspace_id=topup.workspace_id,
            identity_id=topup.identity_id,
            wallet_balance_id=topup.wallet_balance_id,
            amount_minor=topup.amount_minor,
            currency=topup.currency,
            phone_number_masked=mask_phone(topup.phone),
            provider=topup.provider,
            account_reference=topup.account_reference,
            checkout_request_id=topup.checkout_request_id,
            merchant_request_id=topup.merchant_request_id,
            result_code=topup.result_code,
            result_desc=topup.result_desc,
            failure_reason=topup.failure_reason,
            receipt=topup.receipt,
            ledger_reference=topup.ledger_reference,
            resolved_by=topup.resolved_by,
            created_at=topup.created_at,
            updated_at=topup.updated_at,
        )
