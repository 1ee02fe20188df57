"""Everything a payout use case may touch, wired once in `main.py` (and by tests with other parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clearway.payout.service.ports import Ledger, PayoutUnitOfWork
from clearway.providers.bank import Debtor
from clearway.providers.mobile_money import MobileMoneyPayoutProvider

Clock = Callable[[], datetime]
# Past `status_queries_max`, a payout is still asked about, at most this far apart.
STATUS_QUERY_SLOWEST_MS = 3_600_000
STATUS_QUERY_DOUBLINGS_MAX = 32


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PayoutPolicy:
    # A withdrawal still `reserving` this long after it was created is finished by the recovery pass
    # (its request died between the ledger hold and our commit).
    reservation_grace_ms: int = 10_000
    # Approved but not handed to the rail this long (the process died in between): submitted again.
    submission_grace_ms: int = 10_000
    # A payout whose result has not come this long after submission is asked about.
    status_query_after_ms: int = 30_000
    status_query_interval_ms: int = 15_000
    status_queries_max: int = 20
    batch_size_max: int = 50

    def next_status_query_at(self, queries_done: int, now: datetime) -> datetime:
        """When to ask the rail again after `queries_done` status queries of one payout.

        Every `status_query_interval_ms` up to `status_queries_max`; after that the asking slows
        (the interval doubles each time, up to an hour) but never stops: a payout whose rail stays
        silent or down keeps its hold, and only an answer commits or voids it.
        """
        if queries_done < self.status_queries_max:
            return now + timedelta(milliseconds=self.status_query_interval_ms)
        doublings = min(queries_done - self.status_queries_max + 1, STATUS_QUERY_DOUBLINGS_MAX)
        slowed_ms = min(self.status_query_interval_ms * 2**doublings, STATUS_QUERY_SLOWEST_MS)
        return now + timedelta(milliseconds=max(slowed_ms, self.status_query_interval_ms))


@dataclass(frozen=True, slots=True)
class PayoutContext:
    unit_of_work: Callable[[], PayoutUnitOfWork]
    ledger: Ledger
    mobile_money: MobileMoneyPayoutProvider
    bank_debtor: Debtor
    policy: PayoutPolicy = field(default_factory=PayoutPolicy)
    clock: Clock = utc_now
