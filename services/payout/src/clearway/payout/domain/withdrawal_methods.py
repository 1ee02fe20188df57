"""Withdrawal methods: the mobile-money wallets and bank accounts a user may be paid out to.

The full account number is needed to pay out and never needed to display: everything that
leaves the service shows it masked (seed 001, "mask phone number for safe display").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
WITHDRAWAL_METHOD_ID_PREFIX = "wdm"
# Characters left visible at each end of a masked account number; shorter numbers are fully masked.
MASK_VISIBLE_HEAD = 4
MASK_VISIBLE_TAIL = 3
MASK_CHARACTER = "*"


class MethodType(StrEnum):
    MOBILE_MONEY = "mobile_money"
    BANK_ACCOUNT = "bank_account"


def mask_account_number(account_number: str) -> str:
    """`254712345678` -> `2547*****678`: enough to recognise, too little to reuse."""
    visible = MASK_VISIBLE_HEAD + MASK_VISIBLE_TAIL
    if len(account_number) <= visible:
        return MASK_CHARACTER * len(account_number)
    hidden = len(account_number) - visible
    masked = account_number[:MASK_VISIBLE_HEAD] + MASK_CHARACTER * hidden + account_number[-MASK_VISIBLE_TAIL:]
    assert len(masked) == len(account_number)
    return masked


@dataclass(frozen=True, slots=True)
class WithdrawalMethod:
    id: str
    user_id: str
    method_type: MethodType
    provider: str
    account_name: str | None
    account_number: str
    currency: str
    is_primary: bool
    verified: bool
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{WITHDRAWAL_METHOD_ID_PREFIX}_"), f"not a withdrawal method id: {self.id!r}"
        assert self.user_id and self.account_number, "a method belongs to a user and names an account"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "a method cannot change before it exists"

    @property
    def masked_account_number(self) -> str:
        return mask_account_number(self.account_number)
