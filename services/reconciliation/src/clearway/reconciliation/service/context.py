"""Everything a reconciliation use case may touch, wired once in `main.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.service.orphan_holds import OrphanHoldSweep
from clearway.reconciliation.service.ports import Ledger

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReconciliationPolicy:
    posting_batch_size_max: int = 200
    checks_batch_size_max: int = 500
    # A succeeded payout whose provider transaction has not been reconciled this long is a break.
    payout_settlement_window_s: int = 3 * 24 * 3600
    # A hold, or its owner's end, younger than this is not judged an orphan yet.
    orphan_hold_grace_s: int = 60
    owner_queries_concurrent_max: int = 8


@dataclass(frozen=True, slots=True)
class ReconciliationContext:
    unit_of_work: Callable[[], SqlReconciliationUnitOfWork]
    ledger: Ledger
    policy: ReconciliationPolicy = field(default_factory=ReconciliationPolicy)
    clock: Clock = utc_now
    orphan_holds: OrphanHoldSweep | None = None  # None: the orphan-hold check does not run
