"""Billing arithmetic (issue 10 §3-§4, seed 002 steps 6b and 9-12): daily interest, cycle and due
dates, and how a repayment is split. Pure: amounts in minor units, amounts owed positive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ACCRUE_INTEREST = "accrue-interest"
CLOSE_CYCLES = "close-cycles"
MARK_OVERDUE = "mark-overdue"
BILLING_JOBS = (ACCRUE_INTEREST, CLOSE_CYCLES, MARK_OVERDUE)

DAYS_PER_YEAR = 365
BPS_PER_UNIT = 10_000
REPAYMENT_ID_PREFIX = "crp"


def daily_interest_minor(principal_minor: int, annual_rate_bps: int) -> int:
    """One day's interest on `principal_minor` at an annual rate of `annual_rate_bps`: rate / 365, half up."""
    assert principal_minor >= 0 and annual_rate_bps >= 0, (principal_minor, annual_rate_bps)
    denominator = BPS_PER_UNIT * DAYS_PER_YEAR
    return (2 * principal_minor * annual_rate_bps + denominator) // (2 * denominator)


def is_cycle_day(business_date: date, billing_cycle_day: int) -> bool:
    return business_date.day == billing_cycle_day


def due_date(closed_on: date, payment_due_days: int) -> date:
    """The last day to pay a statement closed on `closed_on`; unpaid the day after, it is overdue."""
    return closed_on + timedelta(days=payment_due_days)


def interest_reference(card_account_id: str, business_date: date, kind: str) -> str:
    assert kind in ("pending", "overdue"), kind
    return f"interest:{card_account_id}:{business_date.isoformat()}:{kind}"


def statement_reference(card_account_id: str, number: int, step: str) -> str:
    assert step in ("bill", "overdue"), step
    return f"statement:{card_account_id}:{number}:{step}"


def repayment_reference(repayment_id: str, step: str) -> str:
    assert step in ("split", "principal", "overdue-interest"), step
    return f"repayment:{repayment_id}:{step}"


@dataclass(frozen=True, slots=True)
class Owed:
    """What an account owes, read from its balances (positive)."""

    overdue_minor: int
    billed_minor: int
    fees_minor: int
    transaction_interest_minor: int
    overdue_interest_minor: int


@dataclass(frozen=True, slots=True)
class RepaymentAllocation:
    """Where a repayment goes, in the documented order: overdue principal, billed principal, fees,
    transaction interest; what is left over (an over-payment) goes to card primary as a credit
    towards unbilled spend. `overdue_interest_minor` is not paid by the money: when the repayment
    clears the overdue principal, overdue interest is moved onto card primary (seed step 12), to be
    billed with the next cycle."""

    overdue_minor: int
    billed_minor: int
    fees_minor: int
    transaction_interest_minor: int
    excess_minor: int
    overdue_interest_minor: int

    @property
    def principal_minor(self) -> int:
        """The repaid principal, credited back to card primary so available credit returns."""
        return self.overdue_minor + self.billed_minor

    @property
    def total_minor(self) -> int:
        return (
            self.overdue_minor
            + self.billed_minor
            + self.fees_minor
            + self.transaction_interest_minor
            + self.excess_minor
        )


NOTHING_ALLOCATED = RepaymentAllocation(
    overdue_minor=0,
    billed_minor=0,
    fees_minor=0,
    transaction_interest_minor=0,
    excess_minor=0,
    overdue_interest_minor=0,
)

# Why money quoting a card account's repayment reference was recorded `refused` and never posted.
CURRENCY_MISMATCH = "currency_mismatch"


def transfer_refusal(account_currency: str, currency: str) -> str | None:
    """Why a transfer quoting the account's repayment reference cannot repay it, or None. Money in
    another currency is never converted: it is recorded refused for operations to return."""
    return CURRENCY_MISMATCH if currency != account_currency else None


def allocate_repayment(amount_minor: int, owed: Owed) -> RepaymentAllocation:
    assert amount_minor > 0, amount_minor
    left = amount_minor
    parts: list[int] = []
    for owed_minor in (owed.overdue_minor, owed.billed_minor, owed.fees_minor, owed.transaction_interest_minor):
        paid = min(left, max(owed_minor, 0))
        parts.append(paid)
        left -= paid
    overdue_cleared = owed.overdue_minor > 0 and parts[0] == owed.overdue_minor
    return RepaymentAllocation(
        overdue_minor=parts[0],
        billed_minor=parts[1],
        fees_minor=parts[2],
        transaction_interest_minor=parts[3],
        excess_minor=left,
        overdue_interest_minor=max(owed.overdue_interest_minor, 0) if overdue_cleared else 0,
    )
