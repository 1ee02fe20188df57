"""One batch of step 3 (posting): load and lock, apply each operation in arrival order, write.

Order of work, the same for every batch so concurrent batches cannot deadlock:
look up references, lock the holds involved (by id), create missing internal balances,
lock every balance involved (by id), apply each operation in memory in arrival order,
then write transactions and entries in one statement and update each touched balance once.
A refused operation answers its own error and leaves the others of the batch untouched.

One module per step: `loading` (look up and lock), `transfers`, `holds` and `refunds`
(apply), `writes` (write); `state` is what they share. The store behind them is the
`PostingStore` port (`service/ports.py`); `pipeline` decides when a batch runs and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.service.ports import PostingStore
from clearway.ledger.service.posting.holds import apply_commit, apply_void
from clearway.ledger.service.posting.loading import load_batch
from clearway.ledger.service.posting.operations import (
    CommitHold,
    Operation,
    OperationResult,
    PostEntry,
    Refund,
    Transfer,
    VoidHold,
)
from clearway.ledger.service.posting.refunds import apply_refund
from clearway.ledger.service.posting.state import BatchState
from clearway.ledger.service.posting.transfers import apply_post_entry, apply_scheduled, apply_transfer
from clearway.ledger.service.posting.writes import flush_batch

BATCH_OPERATIONS_MAX = 10_000


class BatchExecutor:
    def __init__(self, store: PostingStore, *, now: datetime, new_id: Callable[[str], str]) -> None:
        self.batch = BatchState(store, now=now, new_id=new_id)
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
