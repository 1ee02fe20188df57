"""Withdrawal methods: the mobile-money wallets and bank accounts a user may be paid out to.

The full account number is needed to pay out and never to display: everything that leaves the
service shows it masked (seed 001, "mask phone number for safe display"). Seed 001's primary
rules: marking a method primary demotes the previous one, a user's first method becomes primary
by itself, otherwise the existing primary stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

WITHDRAWAL_METHOD_ID_PREFIX = "wdm"
MOBILE_MONEY_PROVIDERS = {"mpesa": "KES"}  # provider -> the currency it pays out
BANK_PROVIDER = "sepa"
BANK_CURRENCY = "EUR"
LABEL_LENGTH_MAX = 100
ACCOUNT_HOLDER_LENGTH_MAX = 140  # SEPA's Nm field


class MethodType(StrEnum):
    MOBILE_MONEY = "mobile_money"
    BANK_ACCOUNT = "bank_account"


@dataclass(frozen=True, slots=True)
class NewWithdrawalMethod:
    """A validated request: the phone already E.164, the IBAN already in electronic format."""

    user_id: str
    method_type: MethodType
    provider: str
    account_number: str  # E.164 phone for mobile money, IBAN for a bank account
    account_number_masked: str
    currency: str
    account_holder_name: str | None = None
    bic: str | None = None
    label: str | None = None
    is_primary: bool = False


@dataclass(frozen=True, slots=True)
class WithdrawalMethod:
    id: str
    user_id: str
    method_type: MethodType
    provider: str
    account_number: str
    account_number_masked: str
    currency: str
    account_holder_name: str | None
    bic: str | None
    label: str | None
    is_primary: bool
    verified: bool
    active: bool
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{WITHDRAWAL_METHOD_ID_PREFIX}_"), f"not a withdrawal method id: {self.id!r}"
        assert not (self.is_primary and not self.active), "a deactivated method is never primary"

    def deactivated(self, now: datetime) -> WithdrawalMethod:
        return replace(self, active=False, is_primary=False, updated_at=max(now, self.created_at))

    def marked_verified(self, now: datetime) -> WithdrawalMethod:
        return replace(self, verified=True, updated_at=max(now, self.created_at))


def new_method(request: NewWithdrawalMethod, *, method_id: str, has_primary: bool, now: datetime) -> WithdrawalMethod:
    """Seed 001's rule: asked-for primary, or the user's first method, becomes primary."""
    return WithdrawalMethod(
        id=method_id,
        user_id=request.user_id,
        method_type=request.method_type,
        provider=request.provider,
        account_number=request.account_number,
        account_number_masked=request.account_number_masked,
        currency=request.currency,
        account_holder_name=request.account_holder_name,
        bic=request.bic,
        label=request.label,
        is_primary=request.is_primary or not has_primary,
        verified=False,
        active=True,
        created_at=now,
        updated_at=now,
    )
