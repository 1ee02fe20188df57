"""HTTP shapes of payout's resources."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from clearway.payout.domain.withdrawal_methods import MethodType, WithdrawalMethod
from clearway.platform.pagination import PageParams


class WithdrawalMethodOut(BaseModel):
    id: str
    status: str
    user_id: str
    method_type: MethodType
    provider: str
    account_name: str | None
    account_number_masked: str
    currency: str
    is_primary: bool
    verified: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, method: WithdrawalMethod) -> WithdrawalMethodOut:
        return cls(
            id=method.id,
            status="verified" if method.verified else "unverified",
            user_id=method.user_id,
            method_type=method.method_type,
            provider=method.provider,
            account_name=method.account_name,
            account_number_masked=method.masked_account_number,
            currency=method.currency,
            is_primary=method.is_primary,
            verified=method.verified,
            created_at=method.created_at,
            updated_at=method.updated_at,
        )


class WithdrawalMethodListParams(PageParams):
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
