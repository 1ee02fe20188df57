"""HTTP shapes of authorization's resources."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from clearway.authorization.domain.card_accounts import CardAccount, CardAccountStatus
from clearway.platform.pagination import PageParams


class CardAccountOut(BaseModel):
    id: str
    status: CardAccountStatus
    customer_id: str
    currency: str
    credit_limit_minor: int
    ledger_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, account: CardAccount) -> CardAccountOut:
        return cls(
            id=account.id,
            status=account.status,
            customer_id=account.customer_id,
            currency=account.currency,
            credit_limit_minor=account.credit_limit_minor,
            ledger_id=account.ledger_id,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class CardAccountListParams(PageParams):
    customer_id: str | None = Field(default=None, min_length=1, max_length=200)
