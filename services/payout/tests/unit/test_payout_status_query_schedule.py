"""A payout's status queries: regular up to the maximum, then slower, never stopped (its hold
waits for an answer, so the asking must not end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clearway.payout.service.context import STATUS_QUERY_SLOWEST_MS, PayoutPolicy

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = PayoutPolicy(status_query_interval_ms=15_000, status_queries_max=3)


def wait_after(queries_done: int) -> timedelta:
    return POLICY.next_status_query_at(queries_done, NOW) - NOW


def test_the_regular_queries_come_at_the_interval() -> None:
    assert [wait_after(done) for done in (0, 1, 2)] == [timedelta(seconds=15)] * 3


def test_past_the_maximum_the_wait_doubles_up_to_an_hour_and_never_stops() -> None:
    assert [wait_after(done) for done in (3, 4, 5)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    assert wait_after(1_000) == timedelta(milliseconds=STATUS_QUERY_SLOWEST_MS)
    assert wait_after(10**9) == timedelta(hours=1)


def test_an_interval_above_the_cap_is_kept() -> None:
    slow = PayoutPolicy(status_query_interval_ms=2 * STATUS_QUERY_SLOWEST_MS, status_queries_max=1)
    assert slow.next_status_query_at(5, NOW) - NOW == timedelta(hours=2)
