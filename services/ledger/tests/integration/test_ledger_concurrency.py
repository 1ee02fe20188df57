"""Concurrent stress tests: the ledger's locking holds under many simultaneous writers.

Every test spreads its operations over several `PostingPipeline`s sharing one pool, one
pipeline on each of several independent asyncpg pools (all but one with a fast lane of its own), and
raw `execute_batch` calls on those pools: in effect several ledger processes posting against the same rows at once. The answers
must be exactly what a one-at-a-time ledger would give, and the books must verify afterwards.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest_asyncio

from clearway.ledger.adapters.database import create_pool
from clearway.ledger.adapters.posting_store import SqlFastLaneStore, SqlPostingUnitOfWork
from clearway.ledger.domain.errors import AlreadyRefunded, HoldExceeded, StateConflict
from clearway.ledger.domain.transactions import TransactionRecord, TransferRequest
from clearway.ledger.service import catalog
from clearway.ledger.service.posting.fast_lane import BalanceCache, FastLane
from clearway.ledger.service.posting.operations import (
    CommitHold,
    Operation,
    OperationResult,
    Refund,
    Transfer,
    VoidHold,
)
from clearway.ledger.service.posting.pipeline import PostingPipeline, execute_batch, utc_now
from clearway.ledger.verify import verify_ledger
from clearway.platform.ids import new_id

PROCESSES = 3  # independent pools, each standing in for one ledger process
SHARED_POOL_PIPELINES = 2
RAW_BATCH_SIZE = 7
USD_PRECISION = 100


@dataclass
class Cluster:
    """Several ways into one database, as several ledger processes would have."""

    pools: list[asyncpg.Pool]  # the shared test pool first, then one per simulated process
    pipelines: list[PostingPipeline]

    async def run(self, operations: list[Operation], *, seed: int) -> list[OperationResult]:
        """Shuffle, deal round-robin to every pipeline and to raw batches on every pool, run all at once.

        Results come back in the order of `operations`; a batch that raised is a test failure.
        """
        order = list(range(len(operations)))
        random.Random(seed).shuffle(order)
        lanes = len(self.pipelines) + len(self.pools)
        calls: list[Awaitable[list[tuple[int, OperationResult]]]] = []
        for lane in range(lanes):
            mine = order[lane::lanes]
            if lane < len(self.pipelines):
                calls += [self._submit(self.pipelines[lane], index, operations[index]) for index in mine]
            else:
                pool = self.pools[lane - len(self.pipelines)]
                for start in range(0, len(mine), RAW_BATCH_SIZE):
                    chunk = mine[start : start + RAW_BATCH_SIZE]
                    calls.append(self._batch(pool, chunk, [operations[index] for index in chunk]))
        results: dict[int, OperationResult] = {}
        for answered in await asyncio.gather(*calls):
            results.update(answered)
        assert sorted(results) == list(range(len(operations)))
        return [results[index] for index in range(len(operations))]

    @staticmethod
    async def _submit(pipeline: PostingPipeline, index: int, operation: Operation) -> list[tuple[int, OperationResult]]:
        return [(index, await pipeline.submit(operation))]

    @staticmethod
    async def _batch(
        pool: asyncpg.Pool, indexes: list[int], operations: list[Operation]
    ) -> list[tuple[int, OperationResult]]:
        return list(zip(indexes, await execute_batch(SqlPostingUnitOfWork(pool), operations), strict=True))


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(ledger_pool: asyncpg.Pool, ledger_database_url: str) -> AsyncIterator[Cluster]:
    process_pools = [await create_pool(ledger_database_url, size_max=4) for _ in range(PROCESSES)]
    # The first shared-pool pipeline posts only on the locked path; every other one has a fast lane of
    # its own (its own balance cache, as each ledger process has), so plain transfers race through
    # fast lanes against each other and against locked batches on the same rows.
    pipelines = [
        PostingPipeline(
            SqlPostingUnitOfWork(ledger_pool),
            workers=2,
            batch_size_max=25,
            fast_lane=_fast_lane(ledger_pool) if n else None,
        )
        for n in range(SHARED_POOL_PIPELINES)
    ]
    pipelines += [
        PostingPipeline(SqlPostingUnitOfWork(pool), workers=2, batch_size_max=25, fast_lane=_fast_lane(pool))
        for pool in process_pools
    ]
    for pipeline in pipelines:
        await pipeline.start()
    try:
        yield Cluster([ledger_pool, *process_pools], pipelines)
    finally:
        for pipeline in pipelines:
            await pipeline.stop()
        for pool in process_pools:
            await pool.close()


def _fast_lane(pool: asyncpg.Pool) -> FastLane:
    return FastLane(SqlFastLaneStore(pool), BalanceCache(), clock=utc_now, new_id=new_id)


# ---- helpers ---------------------------------------------------------------------------------


async def new_balance(pool: asyncpg.Pool, currency: str = "USD") -> str:
    row, created = await catalog.create_balance(
        pool, ledger_id="general_ledger_id", identity_id=None, currency=currency, indicator=None, meta_data={}
    )
    assert created
    return str(row["balance_id"])


def transfer(
    source: str,
    destination: str,
    amount_minor: int,
    *,
    inflight: bool = False,
    allow_overdraft: bool = False,
    overdraft_limit_minor: int | None = None,
) -> Transfer:
    return Transfer(
        TransferRequest(
            reference=new_id("ref"),
            currency="USD",
            amount_minor=amount_minor,
            currency_precision=USD_PRECISION,
            source=source,
            destination=destination,
            allow_overdraft=allow_overdraft,
            overdraft_limit_minor=overdraft_limit_minor,
            inflight=inflight,
        )
    )


async def post_one(pool: asyncpg.Pool, operation: Operation, status: str) -> TransactionRecord:
    (result,) = await execute_batch(SqlPostingUnitOfWork(pool), [operation])
    record = result.unwrap()
    assert record.status.value == status, record
    return record


async def columns(pool: asyncpg.Pool, balance_id: str) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            """SELECT credit_balance, debit_balance, inflight_credit_balance, inflight_debit_balance, balance,
                      balance - inflight_debit_balance AS available
               FROM balances WHERE balance_id = $1""",
            balance_id,
        )
    assert row is not None
    return row


async def assert_books_verify(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        report = await verify_ledger(connection)
    assert report.ok, report.as_json()


def statuses(results: list[OperationResult]) -> list[str]:
    """One word per result: the record's status, or the error's class name."""
    return [type(r.error).__name__ if r.error else r.unwrap().status.value for r in results]


def count(results: list[OperationResult], predicate: Callable[[OperationResult], bool]) -> int:
    return sum(1 for result in results if predicate(result))


# ---- a hot balance with an overdraft limit ---------------------------------------------------------


async def test_many_writers_never_overdraw_a_hot_balance(cluster: Cluster) -> None:
    pool = cluster.pools[0]
    funded_minor, limit_minor, debit_minor, writers = 10_000, 5_000, 100, 300
    hot = await new_balance(pool)
    sinks = [await new_balance(pool) for _ in range(4)]
    await post_one(pool, transfer("@World", hot, funded_minor, allow_overdraft=True), "APPLIED")

    # Half go to customer sinks, half to an internal balance every "process" creates on first use.
    operations: list[Operation] = [
        transfer(
            hot,
            sinks[n % len(sinks)] if n % 2 else "@HotSink",
            debit_minor,
            allow_overdraft=True,
            overdraft_limit_minor=limit_minor,
        )
        for n in range(writers)
    ]
    results = await cluster.run(operations, seed=1)

    assert all(result.error is None for result in results), {r.error for r in results if r.error}
    applied = count(results, lambda r: r.unwrap().status.value == "APPLIED")
    rejected = count(results, lambda r: r.unwrap().status.value == "REJECTED")
    expected_applied = (funded_minor + limit_minor) // debit_minor
    assert (applied, rejected) == (expected_applied, writers - expected_applied)
    state = await columns(pool, hot)
    assert state["debit_balance"] == applied * debit_minor
    assert state["balance"] == funded_minor - applied * debit_minor == -limit_minor
    assert state["available"] >= -limit_minor
    sink_credits = [await columns(pool, sink) for sink in sinks]
    assert sum(row["credit_balance"] for row in sink_credits) + (await internal_credit(pool, "@HotSink")) == (
        applied * debit_minor
    )
    await assert_books_verify(pool)


async def internal_credit(pool: asyncpg.Pool, indicator: str) -> int:
    row = await catalog.balance_by_indicator(pool, indicator, "USD")
    return int(row["credit_balance"])


async def test_mixed_debits_and_holds_stop_exactly_at_the_overdraft_limit(cluster: Cluster) -> None:
    """With amounts of every size, what got through plus what is held never passes the limit, and
    everything refused was refused rightly: headroom only shrinks, so it must exceed what is left."""
    pool = cluster.pools[0]
    funded_minor, limit_minor = 20_000, 7_500
    hot, sink = await new_balance(pool), await new_balance(pool)
    await post_one(pool, transfer("@World", hot, funded_minor, allow_overdraft=True), "APPLIED")
    rng = random.Random(2)
    operations: list[Operation] = [
        transfer(
            hot,
            sink,
            rng.randint(1, 900),
            inflight=rng.random() < 0.4,
            allow_overdraft=True,
            overdraft_limit_minor=limit_minor,
        )
        for _ in range(250)
    ]
    results = await cluster.run(operations, seed=3)

    assert all(result.error is None for result in results), {r.error for r in results if r.error}
    taken = [r.unwrap() for r in results if r.unwrap().status.value in ("APPLIED", "INFLIGHT")]
    refused = [r.unwrap() for r in results if r.unwrap().status.value == "REJECTED"]
    assert taken and refused, statuses(results)
    state = await columns(pool, hot)
    applied_minor = sum(record.amount_minor for record in taken if record.status.value == "APPLIED")
    held_minor = sum(record.amount_minor for record in taken if record.status.value == "INFLIGHT")
    assert state["debit_balance"] == applied_minor and state["inflight_debit_balance"] == held_minor
    assert state["available"] == funded_minor - applied_minor - held_minor >= -limit_minor
    headroom_left = state["available"] + limit_minor
    assert all(record.amount_minor > headroom_left for record in refused), headroom_left
    sink_state = await columns(pool, sink)
    assert (sink_state["credit_balance"], sink_state["inflight_credit_balance"]) == (applied_minor, held_minor)
    await assert_books_verify(pool)


# ---- one hold, many commits ---------------------------------------------------------------------


async def test_concurrent_partial_commits_never_exceed_the_hold(cluster: Cluster) -> None:
    pool = cluster.pools[0]
    hold_minor, part_minor, commits = 1_000, 30, 50
    source, destination = await new_balance(pool), await new_balance(pool)
    await post_one(pool, transfer("@World", source, hold_minor, allow_overdraft=True), "APPLIED")
    hold = await post_one(pool, transfer(source, destination, hold_minor, inflight=True), "INFLIGHT")

    results = await cluster.run([CommitHold(hold.transaction_id, part_minor) for _ in range(commits)], seed=4)
    committed = [r for r in results if r.error is None]
    assert all(r.unwrap().status.value == "APPLIED" and r.unwrap().amount_minor == part_minor for r in committed)
    assert all(type(r.error) is HoldExceeded for r in results if r.error), statuses(results)
    assert len(committed) == hold_minor // part_minor  # 33 fit, then only 10 is left

    # The remainder: commits of "whatever is left" race voids; exactly one of them wins.
    left_minor = hold_minor - len(committed) * part_minor
    finishers: list[Operation] = [CommitHold(hold.transaction_id) for _ in range(6)]
    finishers += [VoidHold(hold.transaction_id) for _ in range(6)]
    last = await cluster.run(finishers, seed=5)
    winners = [r.unwrap() for r in last if r.error is None]
    assert len(winners) == 1 and winners[0].amount_minor == left_minor, statuses(last)
    assert all(type(r.error) is StateConflict for r in last if r.error), statuses(last)

    async with pool.acquire() as connection:
        row = await connection.fetchrow("SELECT * FROM holds WHERE transaction_id = $1", hold.transaction_id)
    assert row["committed_minor"] + row["voided_minor"] == hold_minor
    committed_minor = row["committed_minor"]
    assert committed_minor == len(committed) * part_minor + (left_minor if winners[0].status.value == "APPLIED" else 0)
    source_state, destination_state = await columns(pool, source), await columns(pool, destination)
    assert source_state["inflight_debit_balance"] == 0 and source_state["debit_balance"] == committed_minor
    assert destination_state["inflight_credit_balance"] == 0 and destination_state["credit_balance"] == committed_minor
    assert source_state["available"] == hold_minor - committed_minor
    await assert_books_verify(pool)


async def test_concurrent_commits_of_random_parts_settle_exactly(cluster: Cluster) -> None:
    """Parts of every size: the sum committed never passes the hold, and each refused part was
    bigger than what was left at the end (what is left only shrinks)."""
    pool = cluster.pools[0]
    hold_minor = 5_000
    source, destination = await new_balance(pool), await new_balance(pool)
    await post_one(pool, transfer("@World", source, hold_minor, allow_overdraft=True), "APPLIED")
    hold = await post_one(pool, transfer(source, destination, hold_minor, inflight=True), "INFLIGHT")
    rng = random.Random(6)
    parts = [rng.randint(1, 400) for _ in range(60)]
    results = await cluster.run([CommitHold(hold.transaction_id, part) for part in parts], seed=7)

    committed_minor = sum(part for part, r in zip(parts, results, strict=True) if r.error is None)
    refused = [part for part, r in zip(parts, results, strict=True) if r.error is not None]
    left_minor = hold_minor - committed_minor
    # Too big for what is left; or nothing is left at all, when the parts happened to add up exactly.
    refusal = HoldExceeded if left_minor else (HoldExceeded, StateConflict)
    assert all(isinstance(r.error, refusal) for r in results if r.error), statuses(results)
    assert left_minor >= 0 and all(part > left_minor for part in refused)
    async with pool.acquire() as connection:
        stored = await connection.fetchval(
            "SELECT committed_minor FROM holds WHERE transaction_id = $1", hold.transaction_id
        )
    assert stored == committed_minor
    assert (await columns(pool, source))["inflight_debit_balance"] == left_minor
    assert (await columns(pool, destination))["credit_balance"] == committed_minor
    await assert_books_verify(pool)


# ---- refunds --------------------------------------------------------------------------------------


async def test_concurrent_refunds_refund_once(cluster: Cluster) -> None:
    pool = cluster.pools[0]
    amount_minor = 2_500
    payer, payee = await new_balance(pool), await new_balance(pool)
    await post_one(pool, transfer("@World", payer, amount_minor, allow_overdraft=True), "APPLIED")
    payment = await post_one(pool, transfer(payer, payee, amount_minor), "APPLIED")

    results = await cluster.run([Refund(payment.transaction_id) for _ in range(40)], seed=8)
    refunds = [r.unwrap() for r in results if r.error is None]
    assert len(refunds) == 1, statuses(results)
    assert refunds[0].parent_transaction == payment.transaction_id
    assert all(type(r.error) is AlreadyRefunded for r in results if r.error), statuses(results)
    payer_state, payee_state = await columns(pool, payer), await columns(pool, payee)
    assert payer_state["balance"] == amount_minor and payee_state["balance"] == 0
    assert payee_state["debit_balance"] == amount_minor
    async with pool.acquire() as connection:
        children = await connection.fetchval(
            "SELECT count(*) FROM transactions WHERE parent_transaction = $1", payment.transaction_id
        )
    assert children == 1
    await assert_books_verify(pool)


async def test_concurrent_refunds_of_several_payments_each_refund_once(cluster: Cluster) -> None:
    pool = cluster.pools[0]
    payer, payee = await new_balance(pool), await new_balance(pool)
    amounts = [100, 250, 400, 975, 1_200]
    await post_one(pool, transfer("@World", payer, sum(amounts), allow_overdraft=True), "APPLIED")
    payments = [await post_one(pool, transfer(payer, payee, amount), "APPLIED") for amount in amounts]

    operations: list[Operation] = [Refund(payment.transaction_id) for payment in payments for _ in range(6)]
    results = await cluster.run(operations, seed=9)
    refunded = sorted(r.unwrap().parent_transaction or "" for r in results if r.error is None)
    assert refunded == sorted(payment.transaction_id for payment in payments), statuses(results)
    assert all(type(r.error) is AlreadyRefunded for r in results if r.error), statuses(results)
    assert (await columns(pool, payee))["balance"] == 0
    assert (await columns(pool, payer))["balance"] == sum(amounts)
    await assert_books_verify(pool)
