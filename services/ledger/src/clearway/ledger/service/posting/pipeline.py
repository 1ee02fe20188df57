"""The group-commit pipeline (step 3, posting): callers submit one operation and await its result;
workers drain the queue and apply up to `batch_size_max` operations per store transaction.

Under load this turns N commits into N / batch commits while each caller still gets its
own answer. Lock order inside a batch is fixed (see `executor.py`), so several workers (or
several ledger instances) can run batches side by side without deadlocks; contention on
one hot balance simply serialises their batches. Transactions come from the
`PostingUnitOfWork` port (`service/ports.py`): the SQL one in `main.py`, an in-memory one in
the unit tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Histogram

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.service.ports import PostingUnitOfWork
from clearway.ledger.service.posting.executor import BATCH_OPERATIONS_MAX, BatchExecutor
from clearway.ledger.service.posting.fast_lane import FastLane, PostedBatch
from clearway.ledger.service.posting.operations import Operation, OperationResult
from clearway.platform.ids import new_id

logger = logging.getLogger(__name__)

BATCH_ATTEMPTS_MAX = 5
QUEUE_DEPTH_MAX = 100_000

batch_size_histogram = Histogram(
    "clearway_ledger_batch_operations",
    "Operations applied per group-commit batch",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pending:
    operation: Operation
    future: asyncio.Future[OperationResult]


@dataclass(frozen=True)
class AtomicRun:
    """An atomic batch's answer with the balances it locked: as the batch left them when it was
    applied, as they stood (unchanged) when it was refused and rolled back."""

    results: list[OperationResult]
    applied: bool
    balances: dict[str, BalanceState]
    owners: dict[str, BalanceOwner]


async def execute_batch(
    unit_of_work: PostingUnitOfWork,
    operations: Sequence[Operation],
    *,
    clock: Callable[[], datetime] = utc_now,
    atomic: bool = False,
    after_commit: Callable[[Iterable[str]], None] | None = None,
) -> list[OperationResult]:
    """Run operations in one transaction, retrying the whole batch on a lost race.

    Two batches may insert the same new reference or internal balance at once; the loser
    gets a unique violation (or a deadlock on the unique index) and simply runs again, when
    the winner's rows are visible and answer as replays. With `atomic`, any refused
    operation rolls back the whole batch. `after_commit` hears the ids of the balances a committed
    batch locked (the fast lane forgets them: they moved under it).
    """
    run = await _execute(
        unit_of_work, operations, clock=clock, atomic=atomic, keep_balances=False, after_commit=after_commit
    )
    return run.results


async def _execute(
    unit_of_work: PostingUnitOfWork,
    operations: Sequence[Operation],
    *,
    clock: Callable[[], datetime],
    atomic: bool,
    keep_balances: bool,
    after_commit: Callable[[Iterable[str]], None] | None = None,
) -> AtomicRun:
    assert 0 < len(operations) <= BATCH_OPERATIONS_MAX
    for attempt in range(1, BATCH_ATTEMPTS_MAX + 1):
        try:
            async with unit_of_work.begin() as session:
                executor = BatchExecutor(session.store, now=clock(), new_id=new_id)
                results = await executor.run(operations, keep_loaded=keep_balances and atomic)
                batch = executor.batch
                if atomic and any(result.refused for result in results):
                    # Leaving without commit rolls everything back.
                    return AtomicRun(results, False, executor.loaded_balances, batch.owners)
                await session.commit()
                if after_commit is not None:
                    after_commit(batch.balances)
                batch_size_histogram.observe(len(operations))
                return AtomicRun(results, True, batch.balances if keep_balances else {}, batch.owners)
        except unit_of_work.retryable_errors:
            if attempt == BATCH_ATTEMPTS_MAX:
                raise
            logger.info("ledger batch lost a race, retrying", extra={"attempt": attempt})
            await asyncio.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def _settle_on_done(lane: FastLane, posted: PostedBatch, _task: asyncio.Task[list[OperationResult] | None]) -> None:
    lane.settle(posted)


class PostingPipeline:
    def __init__(
        self,
        unit_of_work: PostingUnitOfWork,
        *,
        workers: int = 2,
        batch_size_max: int = 1000,
        clock: Callable[[], datetime] = utc_now,
        fast_lane: FastLane | None = None,
    ) -> None:
        assert 1 <= workers <= 32 and 1 <= batch_size_max <= BATCH_OPERATIONS_MAX
        self._unit_of_work = unit_of_work
        # Plain transfers try the fast lane first; with two or more workers, a batch is posted while
        # the one before it is being written (`fast_lane.py`).
        self._fast_lane = fast_lane
        self._after_commit = fast_lane.forget if fast_lane is not None else None
        self._workers = workers
        self._batch_size_max = batch_size_max
        self._clock = clock
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=QUEUE_DEPTH_MAX)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"ledger-pipeline-{n}") for n in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def submit(self, operation: Operation) -> OperationResult:
        future: asyncio.Future[OperationResult] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(operation, future))
        return await future

    async def run_now(self, operations: Sequence[Operation], *, atomic: bool = False) -> list[OperationResult]:
        """Apply a caller-formed batch (bulk API, a Kafka poll) as its own transaction(s)."""
        if atomic:
            return await self._locked(operations, atomic=True)
        if self._fast_lane is None:
            results: list[OperationResult] = []
            for start in range(0, len(operations), self._batch_size_max):
                results.extend(await self._locked(operations[start : start + self._batch_size_max]))
            return results
        return await self._run_in_slices(self._fast_lane, operations)

    async def run_atomic(self, operations: Sequence[Operation]) -> AtomicRun:
        """Apply all of `operations` or none, as their own transaction, and answer with the balances
        they locked (one round trip for a caller that needs the balance a posting leaves)."""
        return await _execute(
            self._unit_of_work,
            operations,
            clock=self._clock,
            atomic=True,
            keep_balances=True,
            after_commit=self._after_commit,
        )

    async def _run(self, operations: Sequence[Operation]) -> list[OperationResult]:
        if self._fast_lane is not None:
            results = await self._fast_lane.run(operations)
            if results is not None:
                return results
        return await self._locked(operations)

    async def _run_in_slices(self, lane: FastLane, operations: Sequence[Operation]) -> list[OperationResult]:
        """A caller-formed batch in the fast lane, as slices applied in the caller's order: each is
        posted once the one before is posted (on what that one will leave), and written once the one
        before is written, so Python posts slice n+1 while PostgreSQL writes slice n. A slice the
        fast lane declines runs on the locked path once every slice before it has ended; a slice not
        written (and so every later one, chained to it) runs there after them, in order."""
        # Slices of `batch_size_max`: cutting a poll or a bulk request finer measured slower (bulk
        # 3,092-4,030/s in four slices against 4,564-4,659/s whole; Kafka no clearer), the statements'
        # own cost outweighing the overlap, which requests in flight side by side give already.
        size = self._batch_size_max
        results: list[OperationResult] = []
        in_flight: list[tuple[Sequence[Operation], asyncio.Task[list[OperationResult] | None]]] = []
        previous: asyncio.Future[bool] | None = None
        for start in range(0, len(operations), size):
            part = operations[start : start + size]
            posted = await lane.post(part)
            if posted is None:
                results += await self._finish(in_flight)
                previous = None
                results += await self._locked(part)
                continue
            task = asyncio.ensure_future(lane.write(posted, after=previous))
            # A task cancelled before it ever ran would leave its batch staged and its waiters waiting.
            task.add_done_callback(functools.partial(_settle_on_done, lane, posted))
            in_flight.append((part, task))
            previous = posted.written
        return results + await self._finish(in_flight)

    async def _finish(
        self, in_flight: list[tuple[Sequence[Operation], asyncio.Task[list[OperationResult] | None]]]
    ) -> list[OperationResult]:
        """Every write in flight ended, then the slices not written decided on the locked path, in order."""
        slices = list(in_flight)
        in_flight.clear()
        outcomes = await asyncio.gather(*(task for _, task in slices), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # the slices after it were not written: chained to it
        results: list[OperationResult] = []
        for (part, _), outcome in zip(slices, outcomes, strict=True):
            assert not isinstance(outcome, BaseException)
            results += outcome if outcome is not None else await self._locked(part)
        return results

    async def _locked(self, operations: Sequence[Operation], *, atomic: bool = False) -> list[OperationResult]:
        return await execute_batch(
            self._unit_of_work, operations, clock=self._clock, atomic=atomic, after_commit=self._after_commit
        )

    async def _work(self) -> None:
        while True:
            first = await self._queue.get()
            pending = [first]
            while len(pending) < self._batch_size_max and not self._queue.empty():
                pending.append(self._queue.get_nowait())
            live = [item for item in pending if not item.future.cancelled()]
            if not live:
                continue
            try:
                results = await self._run([item.operation for item in live])
            except Exception as error:
                logger.exception("ledger batch failed")
                for item in live:
                    if not item.future.done():
                        item.future.set_exception(error)
                continue
            for item, result in zip(live, results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)
