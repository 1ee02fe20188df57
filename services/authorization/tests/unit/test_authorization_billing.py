"""Billing arithmetic: a day's interest (annual rate / 365, half up), due dates, and how a repayment
is split (overdue, billed, fees, transaction interest, then the excess onto card primary)."""

from __future__ import annotations

from datetime import date

import pytest

from clearway.authorization.domain.billing import (
    Owed,
    allocate_repayment,
    daily_interest_minor,
    due_date,
    interest_reference,
    is_cycle_day,
)


@pytest.mark.parametrize(
    ("principal", "bps", "expected"),
    [
        (500_000, 2_000, 274),  # 273.97 -> 274
        (450_000, 3_000, 370),  # 369.86 -> 370
        (0, 2_000, 0),
        (500_000, 0, 0),
        (365, 10_000, 1),  # exactly 1.00
        (1_825, 1_000, 1),  # 0.5 -> 1 (half up)
        (1_824, 1_000, 0),  # 0.4997 -> 0
    ],
)
def test_daily_interest_is_the_annual_rate_over_365_half_up(principal: int, bps: int, expected: int) -> None:
    assert daily_interest_minor(principal, bps) == expected


def test_cycle_and_due_dates() -> None:
    assert is_cycle_day(date(2026, 5, 15), 15) and not is_cycle_day(date(2026, 5, 16), 15)
    assert due_date(date(2026, 5, 15), 21) == date(2026, 6, 5)
    assert interest_reference("cac_1", date(2026, 5, 2), "pending") == "interest:cac_1:2026-05-02:pending"


OWED = Owed(
    overdue_minor=450_000, billed_minor=0, fees_minor=6_750, transaction_interest_minor=274, overdue_interest_minor=370
)


def test_a_full_repayment_pays_everything_and_rolls_overdue_interest_onto_card_primary() -> None:
    allocation = allocate_repayment(457_024, OWED)
    assert (allocation.overdue_minor, allocation.fees_minor, allocation.transaction_interest_minor) == (
        450_000,
        6_750,
        274,
    )
    assert (allocation.excess_minor, allocation.principal_minor, allocation.overdue_interest_minor) == (0, 450_000, 370)


def test_a_partial_repayment_fills_the_order_and_leaves_the_rest_owed() -> None:
    allocation = allocate_repayment(100_000, OWED)
    assert (allocation.overdue_minor, allocation.billed_minor, allocation.fees_minor) == (100_000, 0, 0)
    assert allocation.overdue_interest_minor == 0  # overdue not cleared: its interest stays
    owed = Owed(
        overdue_minor=1_000, billed_minor=2_000, fees_minor=300, transaction_interest_minor=50, overdue_interest_minor=0
    )
    allocation = allocate_repayment(3_100, owed)
    assert (allocation.overdue_minor, allocation.billed_minor, allocation.fees_minor) == (1_000, 2_000, 100)
    assert (allocation.transaction_interest_minor, allocation.total_minor) == (0, 3_100)


def test_an_over_payment_credits_card_primary_with_the_excess() -> None:
    owed = Owed(
        overdue_minor=0, billed_minor=2_000, fees_minor=30, transaction_interest_minor=0, overdue_interest_minor=0
    )
    allocation = allocate_repayment(5_000, owed)
    assert (allocation.billed_minor, allocation.fees_minor, allocation.excess_minor) == (2_000, 30, 2_970)
    assert allocation.principal_minor == 2_000 and allocation.total_minor == 5_000
    nothing_owed = Owed(0, 0, 0, 0, 0)
    assert allocate_repayment(10, nothing_owed).excess_minor == 10
