"""Clearing arithmetic (seed 002, steps 7-8): what is committed, released or posted apart, the fee
change, and the expiry cutoff."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clearway.authorization.domain.authorizations import expiry_cutoff, markup_fee_minor
from clearway.authorization.domain.clearings import ClearingPlan, FeeChange, clearing_plan, fee_change


@pytest.mark.parametrize(
    ("amount", "held", "plan"),
    [
        (200_000, 200_000, ClearingPlan(committed_minor=200_000, released_minor=0, difference_minor=0)),
        (150_000, 200_000, ClearingPlan(committed_minor=150_000, released_minor=50_000, difference_minor=-50_000)),
        (250_000, 200_000, ClearingPlan(committed_minor=200_000, released_minor=0, difference_minor=50_000)),
        (5_000, 0, ClearingPlan(committed_minor=0, released_minor=0, difference_minor=5_000)),  # force post
    ],
)
def test_the_plan_commits_releases_or_posts_the_difference(amount: int, held: int, plan: ClearingPlan) -> None:
    assert clearing_plan(amount, held) == plan
    assert plan.committed_minor + plan.posted_minor == amount
    assert plan.committed_minor + plan.released_minor == held
    assert plan.partial == (amount < held)


def test_the_plan_refuses_nothing_to_clear() -> None:
    with pytest.raises(AssertionError):
        clearing_plan(0, 100)


def test_the_seed_fee_is_refunded_and_reposted_only_when_it_changes() -> None:
    # Seed 6a: 150 bps of 2,000.00 is 30.00; cleared at 2,500.00 the fee is 37.50.
    assert fee_change(250_000, 150, 3_000) == FeeChange(refund_old=True, post_minor=3_750, fee_minor=3_750)
    assert fee_change(200_000, 150, 3_000) == FeeChange(refund_old=False, post_minor=0, fee_minor=3_000)
    # A cent more changes the fee by less than half a cent: the same fee stands, nothing is posted.
    assert fee_change(200_001, 150, 3_000) == FeeChange(refund_old=False, post_minor=0, fee_minor=3_000)
    # A force post posts its own fee; no fee at authorization (0 bps then) is not refunded.
    assert fee_change(5_000, 150, None) == FeeChange(refund_old=False, post_minor=75, fee_minor=75)
    assert fee_change(5_000, 150, 0) == FeeChange(refund_old=False, post_minor=75, fee_minor=75)
    assert fee_change(5_000, 0, 75) == FeeChange(refund_old=True, post_minor=0, fee_minor=0)


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [(200_000, 150, 3_000), (1, 5_000, 1), (1, 4_999, 0), (3_333, 150, 50), (3_300, 150, 50), (3_299, 150, 49)],
)
def test_the_markup_rounds_half_up(amount: int, bps: int, fee: int) -> None:
    assert markup_fee_minor(amount, bps) == fee


def test_expiry_cutoff_is_n_days_before_the_business_dates_start() -> None:
    assert expiry_cutoff(date(2026, 5, 10), 7) == datetime(2026, 5, 3, tzinfo=UTC)
    assert expiry_cutoff(date(2026, 5, 10), 0) == datetime(2026, 5, 10, tzinfo=UTC)
