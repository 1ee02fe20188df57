"""Group commit: run many ledger operations in one database transaction.

Order of work, the same for every batch so concurrent batches cannot deadlock:
look up references, lock the holds involved (by id), create missing internal balances,
lock every balance involved (by id), apply each operation in memory in arrival order,
then write transactions and entries with COPY and update each touched balance once.

One module per step: `batch_loading` (look up and lock), `batch_postings`, `batch_holds` and
`batch_refunds` (apply), `batch_writes` (write); `batch_state` is what they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from clearway.ledger.adapters.repository import LedgerRepository
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.service.batch_holds import apply_commit, apply_void
from clearway.ledger.service.batch_loading import load_batch
from clearway.ledger.service.batch_postings import apply_post_entry, apply_scheduled, apply_transfer
from clearway.ledger.service.batch_refunds import apply_refund
from clearway.ledger.service.batch_state import BatchState
from clearway.ledger.service.batch_writes import flush_batch
from clearway.ledger.service.operations import (
    CommitHold,
    Operation,
    OperationResult,
    PostEntry,
    Refund,
    Transfer,
    VoidHold,
)

BATCH_OPERATIONS_MAX = 10_000


class BatchExecutor:
    def __init__(self, repository: LedgerRepository, *, now: datetime, new_id: Callable[[str], str]) -> None:
        self.batch = BatchState(repository, now=now, new_id=new_id)
        # The balances as locked, before any operation ran: kept only when asked (`run(keep_loaded=True)`),
        # for an atomic caller who wants them back when the batch is refused and rolled back.
        self.loaded_balances: dict[str, BalanceState] = {}

    async def run(self, operations: Sequence[Operation], *, keep_loaded: bool = False) -> list[OperationResult]:
        assert len(operations) <= BATCH_OPERATIONS_MAX
        await load_batch(self.batch, operations)
        if keep_loaded:
            self.loaded_balances = {balance_id: state.copy() for balance_id, state in self.batch.balances.items()}
        results: list[OperationResult] = []
        for op in operations:
            try:
                results.append(self._run_one(op))
            except LedgerError as error:
                results.append(OperationResult(error=error))
        await flush_batch(self.batch)
        return results

    def _run_one(self, op: Operation) -> OperationResult:
        if isinstance(op, Transfer):
            return apply_transfer(self.batch, op.request, op.tenant)
        if isinstance(op, CommitHold):
            return apply_commit(self.batch, op)
        if isinstance(op, VoidHold):
            return apply_void(self.batch, op)
        if isinstance(op, Refund):
            return apply_refund(self.batch, op)
        if isinstance(op, PostEntry):
            return apply_post_entry(self.batch, op)
        return apply_scheduled(self.batch, op)
