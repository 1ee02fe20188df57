"""The posting fast lane against real PostgreSQL: what it cannot be sure of goes to the locked path.

Each test sets up the situation the fast lane's write must refuse (a balance that moved under the
cache, a refusal decided on a stale read, a replayed reference, a monitor, a write before it that
failed) and checks two things: the pipeline's answer is the one the locked path gives, and the
store holds exactly what one posting would leave (`verify_ledger`, entry counts, versions).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio
from prometheus_client import REGISTRY

from clearway.ledger.adapters.database import create_pool
from clearway.ledger.adapters.posting_store import SqlFastLaneStore, SqlPostingUnitOfWork
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.service import catalog
from clearway.ledger.service.posting.fast_lane import BalanceCache, FastLane
from clearway.ledger.service.posting.operations import Transfer
from clearway.ledger.service.posting.pipeline import PostingPipeline, execute_batch, utc_now
from clearway.ledger.verify import verify_ledger
from clearway.platform.ids import new_id


def transfer(source: str, destination: str, amount_minor: int, *, reference: str | None = None) -> Transfer:
    return Transfer(
        TransferRequest(
            reference=reference or new_id("ref"),
            currency="USD",
            amount_minor=amount_minor,
            currency_precision=100,
            source=source,
            destination=destination,
        )
    )


def fund(destination: str, amount_minor: int) -> Transfer:
    request = TransferRequest(
        reference=new_id("ref"),
        currency="USD",
        amount_minor=amount_minor,
        currency_precision=100,
        source="@World",
        destination=destination,
        allow_overdraft=True,
    )
    return Transfer(request)


async def new_balance(pool: asyncpg.Pool) -> str:
    row, _ = await catalog.create_balance(
        pool, ledger_id="general_ledger_id", identity_id=None, currency="USD", indicator=None, meta_data={}
    )
    return str(row["balance_id"])


async def balance_row(pool: asyncpg.Pool, balance_id: str) -> dict[str, Any]:
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            "SELECT balance, version, (SELECT count(*) FROM entries e WHERE e.balance_id = $1) AS entries "
            "FROM balances WHERE balance_id = $1",
            balance_id,
        )
    assert row is not None
    return dict(row)


async def assert_books_verify(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        report = await verify_ledger(connection)
    assert report.ok, report.as_json()


def outcomes() -> dict[str, float]:
    return {
        outcome: REGISTRY.get_sample_value("clearway_ledger_fast_lane_batches_total", {"outcome": outcome}) or 0.0
        for outcome in ("written", "declined", "conflict")
    }


def moved(before: dict[str, float]) -> dict[str, float]:
    return {outcome: value - before[outcome] for outcome, value in outcomes().items() if value != before[outcome]}


@pytest_asyncio.fixture(loop_scope="session")
async def fast_pipeline(ledger_pool: asyncpg.Pool) -> AsyncIterator[tuple[PostingPipeline, BalanceCache]]:
    cache = BalanceCache()
    lane = FastLane(SqlFastLaneStore(ledger_pool), cache, clock=utc_now, new_id=new_id)
    pipeline = PostingPipeline(SqlPostingUnitOfWork(ledger_pool), workers=2, batch_size_max=50, fast_lane=lane)
    await pipeline.start()
    try:
        yield pipeline, cache
    finally:
        await pipeline.stop()


async def test_a_batch_of_plain_transfers_is_written_in_one_statement_at_the_versions_read(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    before = outcomes()

    results = await pipeline.run_now([transfer(alice, bob, 300), transfer(alice, bob, 200), transfer(bob, alice, 50)])

    assert [result.unwrap().status.value for result in results] == ["APPLIED"] * 3
    assert moved(before) == {"written": 1}
    assert (await balance_row(ledger_pool, alice))["balance"] == 1_000 - 500 + 50
    assert (await balance_row(ledger_pool, bob))["balance"] == 450
    # One batch saves each balance once: one version up, however many of its transfers moved it.
    assert (await balance_row(ledger_pool, bob))["version"] == 1
    await assert_books_verify(ledger_pool)


async def test_a_balance_moved_by_another_process_sends_the_batch_to_the_locked_path(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    pipeline, cache = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    await pipeline.run_now([transfer(alice, bob, 100)])  # both now cached
    assert not cache.missing([alice, bob])
    # Another ledger process spends from alice: the cache still says 900.
    await execute_batch(SqlPostingUnitOfWork(ledger_pool), [transfer(alice, bob, 850)])
    before = outcomes()

    (result,) = await pipeline.run_now([transfer(alice, bob, 100)])

    # On the cached 900 the fast lane would have applied it; the store's 50 refuses it.
    assert result.unwrap().status.value == "REJECTED"
    assert moved(before) == {"conflict": 1}
    assert (await balance_row(ledger_pool, alice))["balance"] == 50
    assert cache.missing([alice, bob]) == [alice, bob]  # forgotten, read again next time
    await assert_books_verify(ledger_pool)


async def test_a_refusal_decided_on_a_stale_read_is_decided_again(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    """A refused transfer moves no balance, so only the version of a balance it merely read can tell
    that the refusal was decided on money that has arrived since."""
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    (refused,) = await pipeline.run_now([transfer(alice, bob, 500)])
    assert refused.unwrap().status.value == "REJECTED"  # alice is empty, and now cached so
    await execute_batch(SqlPostingUnitOfWork(ledger_pool), [fund(alice, 1_000)])  # another process funds her
    before = outcomes()

    (result,) = await pipeline.run_now([transfer(alice, bob, 500)])

    assert result.unwrap().status.value == "APPLIED"
    assert moved(before) == {"conflict": 1}
    assert (await balance_row(ledger_pool, bob))["balance"] == 500
    await assert_books_verify(ledger_pool)


async def test_a_replayed_reference_is_answered_by_the_locked_path_and_written_once(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    reference = new_id("ref")
    (first,) = await pipeline.run_now([transfer(alice, bob, 100, reference=reference)])
    before = outcomes()

    (again,) = await pipeline.run_now([transfer(alice, bob, 100, reference=reference)])
    (different,) = await pipeline.run_now([transfer(alice, bob, 999, reference=reference)])

    assert again.replayed and again.unwrap().transaction_id == first.unwrap().transaction_id
    assert different.error is not None and different.error.code == "REFERENCE_REUSED"
    assert moved(before) == {"conflict": 2}  # each found the reference taken by the unique index
    assert (await balance_row(ledger_pool, bob))["balance"] == 100
    await assert_books_verify(ledger_pool)


async def test_a_balance_with_a_monitor_is_posted_by_the_locked_path_which_fires_it(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    await pipeline.run_now([transfer(alice, bob, 10)])  # cached before the monitor exists
    monitor = await catalog.create_monitor(
        ledger_pool, balance_id=bob, field="balance", operator=">", value=1, precision=100, description="bob over 1"
    )
    before = outcomes()

    (result,) = await pipeline.run_now([transfer(alice, bob, 200)])

    assert result.unwrap().status.value == "APPLIED"
    assert moved(before) == {"conflict": 1}
    async with ledger_pool.acquire() as connection:
        fired = await connection.fetchval(
            "SELECT is_triggered FROM balance_monitors WHERE monitor_id = $1", monitor["monitor_id"]
        )
    assert fired is True
    before = outcomes()
    await pipeline.run_now([transfer(alice, bob, 1)])
    assert moved(before) == {"declined": 1}  # known now: straight to the locked path


async def test_a_monitor_committed_while_the_write_waits_for_its_balance_is_seen(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    """Creating a monitor locks its balance's row until it commits; a fast-lane write waiting for that
    lock must see the monitor then (its own snapshot is older) and leave the batch to the locked path,
    which fires the monitor."""
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    await pipeline.run_now([transfer(alice, bob, 10)])  # cached, with no monitor
    monitor_id = new_id("mon")
    async with ledger_pool.acquire() as creating:
        transaction = creating.transaction()
        await transaction.start()
        await creating.execute(
            "INSERT INTO balance_monitors (monitor_id, balance_id, field, operator, value_minor, precision) "
            "VALUES ($1, $2, 'balance', '>', 100, 100)",
            monitor_id,
            bob,
        )
        before = outcomes()
        posting = asyncio.create_task(pipeline.run_now([transfer(alice, bob, 200)]))
        await asyncio.sleep(0.5)
        assert not posting.done()  # waiting for bob's row, which the monitor's insert holds
        await transaction.commit()
        (result,) = await posting

    assert result.unwrap().status.value == "APPLIED"
    assert moved(before) == {"conflict": 1}
    async with ledger_pool.acquire() as connection:
        fired = await connection.fetchval("SELECT is_triggered FROM balance_monitors WHERE monitor_id = $1", monitor_id)
    assert fired is True


async def test_a_poll_keeps_its_order_across_slices_when_one_slice_takes_the_locked_path(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    """400 commands in four slices: the first funds alice from `@World` (an internal balance: its
    slice goes to the locked path), the 151st spends that money. Applied in the poll's order, as one
    batch after another would be, the 151st finds it there."""
    pipeline, _ = fast_pipeline
    alice, carol, dave, erin = [await new_balance(ledger_pool) for _ in range(4)]
    await pipeline.run_now([fund(dave, 100_000)])
    await pipeline.run_now([transfer(dave, erin, 1), transfer(alice, carol, 1)])  # cached; alice refused, empty
    operations = [transfer(dave, erin, 10) for _ in range(400)]
    operations[0] = fund(alice, 500)
    operations[150] = transfer(alice, carol, 500)

    results = await pipeline.run_now(operations)

    assert results[150].unwrap().status.value == "APPLIED"
    assert all(result.unwrap().status.value == "APPLIED" for result in results)
    assert [result.unwrap().reference for result in results] == [op.request.reference for op in operations]
    assert (await balance_row(ledger_pool, carol))["balance"] == 500
    await assert_books_verify(ledger_pool)


async def test_a_batch_posted_on_a_write_that_fails_is_not_written_on_it(
    ledger_pool: asyncpg.Pool, fast_pipeline: tuple[PostingPipeline, BalanceCache]
) -> None:
    """Batch 2 posts on what batch 1 will leave, while batch 1 is still being written; batch 1's
    write is refused (its reference is taken), so batch 2 must not be written on its leavings."""
    pipeline, _ = fast_pipeline
    alice, bob = await new_balance(ledger_pool), await new_balance(ledger_pool)
    await pipeline.run_now([fund(alice, 1_000)])
    taken = new_id("ref")
    await execute_batch(SqlPostingUnitOfWork(ledger_pool), [transfer(alice, bob, 1, reference=taken)])

    first, second = await asyncio.gather(
        pipeline.run_now([transfer(alice, bob, 1, reference=taken)]),  # a replay: its write is refused
        pipeline.run_now([transfer(alice, bob, 500)]),  # posted on the replay's leavings (999 - 1)
    )

    assert first[0].replayed
    assert second[0].unwrap().status.value == "APPLIED"
    assert (await balance_row(ledger_pool, alice))["balance"] == 1_000 - 1 - 500
    assert (await balance_row(ledger_pool, bob))["balance"] == 501
    await assert_books_verify(ledger_pool)


async def test_several_processes_with_fast_lanes_never_overdraw_and_keep_the_books(
    ledger_pool: asyncpg.Pool, ledger_database_url: str
) -> None:
    """Several ledger processes (a pool, a cache and a pipeline each) move money around a ring of
    balances at once; every balance starts funded, no transfer may overdraw, and afterwards the
    books verify and the money in the ring is what was funded."""
    instances = 3
    ring = [await new_balance(ledger_pool) for _ in range(6)]
    await execute_batch(SqlPostingUnitOfWork(ledger_pool), [fund(balance_id, 1_000) for balance_id in ring])
    pools = [await create_pool(ledger_database_url, size_max=4) for _ in range(instances)]
    pipelines = [
        PostingPipeline(
            SqlPostingUnitOfWork(pool),
            workers=2,
            batch_size_max=20,
            fast_lane=FastLane(SqlFastLaneStore(pool), BalanceCache(), clock=utc_now, new_id=new_id),
        )
        for pool in pools
    ]
    for pipeline in pipelines:
        await pipeline.start()
    try:
        submissions = [
            pipelines[n % instances].submit(transfer(ring[n % len(ring)], ring[(n * 7 + 1) % len(ring)], 37 + n % 300))
            for n in range(600)
        ]
        results = await asyncio.gather(*submissions)
    finally:
        for pipeline in pipelines:
            await pipeline.stop()
        for pool in pools:
            await pool.close()

    statuses = {result.unwrap().status.value for result in results}
    assert statuses <= {"APPLIED", "REJECTED"} and "APPLIED" in statuses
    rows = [await balance_row(ledger_pool, balance_id) for balance_id in ring]
    assert all(row["balance"] >= 0 for row in rows)
    assert sum(row["balance"] for row in rows) == 1_000 * len(ring)
    await assert_books_verify(ledger_pool)
