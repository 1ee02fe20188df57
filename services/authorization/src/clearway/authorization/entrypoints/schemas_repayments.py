"""HTTP shapes of repayments (`POST` and `GET /card-accounts/{id}/repayments`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from clearway.platform.pagination import PageParams

RepaymentStatus = Literal["pending", "posted", "refused"]


class RepaymentAllocationOut(BaseModel):
    overdue_minor: int
    billed_minor: int
    fees_minor: int
    transaction_interest_minor: int
    excess_minor: int = Field(description="An over-payment, credited to card primary.")
    overdue_interest_minor: int = Field(description="Overdue interest moved onto card primary (not paid by the money).")


class RepaymentOut(BaseModel):
    id: str
    card_account_id: str
    reference: str
    amount_minor: int
    currency: str
    status: RepaymentStatus = Field(
        description="`pending` (being posted), `posted`, or `refused` (never posted: see `reason`)."
    )
    reason: str | None = Field(
        default=None, description="Why a `refused` repayment was not posted: `currency_mismatch`."
    )
    allocation: RepaymentAllocationOut = Field(description="All zero for a refused repayment.")
    ledger_transaction_id: str | None = Field(default=None, description="The ledger transaction of the split.")
    created_at: datetime
    posted_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RepaymentOut:
        return cls(
            id=row["id"],
            card_account_id=row["card_account_id"],
            reference=row["reference"],
            amount_minor=row["amount_minor"],
            currency=row["currency"],
            status=row["status"],
            reason=row.get("reason"),
            allocation=RepaymentAllocationOut.model_validate(row["allocation"]),
            ledger_transaction_id=row.get("ledger_transaction_id"),
            created_at=row["created_at"],
            posted_at=row["posted_at"],
        )


class RepaymentListParams(PageParams):
    pass
