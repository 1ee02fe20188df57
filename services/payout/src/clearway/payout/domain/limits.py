"""Withdrawal limits per currency (seed 001: "min/max/day limits from platform settings").

Defaults fit M-Pesa B2C (KES; whole shillings, at most 250,000 a transaction) and one SEPA bank
currency (EUR). Operators change them at `PUT /api/v1/admin/payments/settings`; a change applies
to the next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clearway.payout.domain.errors import BusinessRuleError, InvalidRequestError


@dataclass(frozen=True, slots=True)
class CurrencyLimits:
    min_minor: int
    max_minor: int
    daily_max_minor: int
    # A paid payable is paid out without a second approval up to this amount (issue 8 §5).
    auto_approve_max_minor: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.min_minor <= self.max_minor <= self.daily_max_minor:
            raise InvalidRequestError(
                "limits need 0 < min_minor <= max_minor <= daily_max_minor", code="INVALID_LIMITS"
            )
        if self.auto_approve_max_minor < 0:
            raise InvalidRequestError("auto_approve_max_minor cannot be negative", code="INVALID_LIMITS")


DEFAULT_LIMITS: Mapping[str, CurrencyLimits] = {
    # KES 10 to KES 150,000 a withdrawal, KES 300,000 in any 24 hours.
    "KES": CurrencyLimits(
        min_minor=10_00, max_minor=150_000_00, daily_max_minor=300_000_00, auto_approve_max_minor=50_000_00
    ),
    # EUR 1 to EUR 10,000 a withdrawal, EUR 25,000 in any 24 hours.
    "EUR": CurrencyLimits(
        min_minor=1_00, max_minor=10_000_00, daily_max_minor=25_000_00, auto_approve_max_minor=1_000_00
    ),
}


def check_amount(limits: CurrencyLimits | None, currency: str, amount_minor: int, paid_last_24h_minor: int) -> None:
    """Seed 001's decision path, in its order: minimum, maximum, then the rolling day."""
    if limits is None:
        raise BusinessRuleError(f"Withdrawals in {currency} are not offered.", code="CURRENCY_NOT_SUPPORTED")
    if amount_minor < limits.min_minor:
        raise BusinessRuleError(
            f"The minimum withdrawal is {limits.min_minor} {currency} minor units.",
            code="AMOUNT_BELOW_MINIMUM",
            min_minor=limits.min_minor,
        )
    if amount_minor > limits.max_minor:
        raise BusinessRuleError(
            f"The maximum withdrawal is {limits.max_minor} {currency} minor units.",
            code="AMOUNT_ABOVE_MAXIMUM",
            max_minor=limits.max_minor,
        )
    if paid_last_24h_minor + amount_minor > limits.daily_max_minor:
        raise BusinessRuleError(
            f"This withdrawal would take the last 24 hours past {limits.daily_max_minor} {currency} minor units.",
            code="DAILY_LIMIT_EXCEEDED",
            daily_max_minor=limits.daily_max_minor,
            remaining_minor=max(0, limits.daily_max_minor - paid_last_24h_minor),
        )
