"""Card accounts: a customer's charge-card account, its credit limit and whether it may spend.

Balances are not kept here: the ledger holds the card account's balances (seed 002's six
sub-balances) and is the only place money is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
CARD_ACCOUNT_ID_PREFIX = "cac"


class CardAccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CardAccount:
    id: str
    customer_id: str
    currency: str
    credit_limit_minor: int
    status: CardAccountStatus
    ledger_id: str | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{CARD_ACCOUNT_ID_PREFIX}_"), f"not a card account id: {self.id!r}"
        assert self.customer_id, "a card account belongs to a customer"
        assert self.credit_limit_minor >= 0, "credit limits are non-negative minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "an account cannot change before it exists"

    @property
    def can_authorize(self) -> bool:
        return self.status is CardAccountStatus.ACTIVE
