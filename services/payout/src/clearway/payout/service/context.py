"""Everything a payout use case may touch, wired once in `main.py` (and by tests with other parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clearway.payout.service.ports import Ledger, PayoutUnitOfWork
from clearway.providers.bank import Debtor
from clearway.providers.mobile_money import MobileMoneyPayoutProvider

Clock = Callable[[], datetime]


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


@dataclass(frozen=True, slots=True)
class PayoutContext:
    unit_of_work: Callable[[], PayoutUnitOfWork]
    ledger: Ledger
    mobile_money: MobileMoneyPayoutProvider
    bank_debtor: Debtor
    policy: PayoutPolicy = field(default_factory=PayoutPolicy)
    clock: Clock = utc_now
