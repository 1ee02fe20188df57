"""HTTP shapes of withdrawal methods. Phone and account numbers go out masked only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearway.payout.domain.withdrawal_methods import (
    ACCOUNT_HOLDER_LENGTH_MAX,
    LABEL_LENGTH_MAX,
    MethodType,
    WithdrawalMethod,
)

IDENTITY_ID_FIELD = Field(
    default=None,
    min_length=1,
    max_length=200,
    description="The owner (a ledger identity). Users omit it (their token says who they are); operators name it.",
)


class WithdrawalMethodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["mobile_money", "bank_account"]
    provider: str | None = Field(default=None, max_length=20, description="`mpesa` for mobile money (the default).")
    phone_number: str | None = Field(default=None, min_length=3, max_length=32, description="Mobile money: as typed.")
    iban: str | None = Field(default=None, min_length=5, max_length=50, description="Bank account: the IBAN.")
    account_holder_name: str | None = Field(default=None, min_length=1, max_length=ACCOUNT_HOLDER_LENGTH_MAX)
    bic: str | None = Field(default=None, min_length=8, max_length=11)
    label: str | None = Field(default=None, min_length=1, max_length=LABEL_LENGTH_MAX)
    is_primary: bool = False
    identity_id: str | None = IDENTITY_ID_FIELD


class WithdrawalMethodOut(BaseModel):
    id: str
    user_id: str
    type: MethodType
    provider: str
    currency: str
    phone_number_masked: str | None = Field(description="Mobile money: the phone, masked (+254******678).")
    account_number_masked: str = Field(description="The phone or IBAN, masked.")
    account_holder_name: str | None
    bic: str | None
    label: str | None
    is_primary: bool
    verified: bool = Field(description="True after the first successful payout to it.")
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, method: WithdrawalMethod) -> WithdrawalMethodOut:
        mobile = method.method_type is MethodType.MOBILE_MONEY
        return cls(
            id=method.id,
            user_id=method.user_id,
            type=method.method_type,
            provider=method.provider,
            currency=method.currency,
            phone_number_masked=method.account_number_masked if mobile else None,
            account_number_masked=method.account_number_masked,
            account_holder_name=method.account_holder_name,
            bic=method.bic,
            label=method.label,
            is_primary=method.is_primary,
            verified=method.verified,
            active=method.active,
            created_at=method.created_at,
            updated_at=method.updated_at,
        )
