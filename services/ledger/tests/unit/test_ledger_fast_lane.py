"""The posting fast lane (`service/posting/fast_lane.py`) on in-memory fakes of its store and of the
locked path's: when it writes, what it hands the locked path, and that a batch posted on a write in
flight is written after it, and not at all when that write fails.

The same rules run against PostgreSQL in `tests/integration/test_ledger_fast_lane_pg.py`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import Bucket
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.service.commands import build_transfer_request
from clearway.ledger.service.posting.fast_lane import BalanceCache, FastLane
from clearway.ledger.service.posting.operations import OperationResult, Transfer
from clearway.ledger.service.posting.pipeline import PostingPipeline, execute_batch

from .in_memory_posting_store import InMemoryFastLaneStore, InMemoryPostingUnitOfWork

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


_ids = iter(range(1, 10**9))


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):012d}"


def transfer(reference: str, source: str, destination: str, amount_minor: int, **options: Any) -> Transfer:
    return Transfer(
        build_transfer_request(
            reference=reference,
            currency="USD",
            precise_amount=amount_minor,
            source=source,
            destination=destination,
            **options,
        )
    )


def status(result: OperationResult) -> str:
    return result.unwrap().status.value


class Books:
    """An in-memory ledger with a fast lane: the unit of work, the lane's store, its cache."""

    def __init__(self, *balance_ids: str, funded_minor: int = 0) -> None:
        self.unit_of_work = InMemoryPostingUnitOfWork()
        for balance_id in balance_ids:
            self.unit_of_work.open_balance(balance_id)
        self.store = InMemoryFastLaneStore(self.unit_of_work)
        self.cache = BalanceCache()
        self.lane = FastLane(self.store, self.cache, clock=clock, new_id=new_id)
        self.pipeline = PostingPipeline(self.unit_of_work, workers=2, clock=clock, fast_lane=self.lane)
        self.funded_minor = funded_minor

    async def fund(self) -> None:
        """Fund every customer balance from `@World` on the locked path (an internal balance)."""
        operations = [
            transfer(f"fund-{balance_id}", "@World", balance_id, self.funded_minor, allow_overdraft=True)
            for balance_id in self.unit_of_work.tables.owners
            if not self.unit_of_work.tables.owners[balance_id].is_internal
        ]
        await self.pipeline.run_now(operations)

    def balance(self, balance_id: str) -> int:
        return self.unit_of_work.balance(balance_id).balance

    def assert_books_balance(self) -> None:
        """Each balance equals the sum of its lines, and every transaction's lines sum to zero."""
        tables = self.unit_of_work.tables
        by_balance: dict[str, int] = {}
        by_transaction: dict[str, int] = {}
        for line, _ in tables.lines:
            assert line.bucket is Bucket.APPLIED
            by_balance[line.balance_id] = by_balance.get(line.balance_id, 0) + line.credit_minor - line.debit_minor
            by_transaction[line.transaction_id] = (
                by_transaction.get(line.transaction_id, 0) + line.credit_minor - line.debit_minor
            )
        for balance_id, state in tables.balances.items():
            assert state.balance == by_balance.get(balance_id, 0), balance_id
        assert set(by_transaction.values()) <= {0}


async def test_plain_transfers_are_written_once_and_the_next_batch_posts_on_the_cache() -> None:
    books = Books("alice", "bob", funded_minor=1_000)
    await books.fund()

    first = await books.pipeline.run_now([transfer("t1", "alice", "bob", 300), transfer("t2", "bob", "alice", 50)])
    reads = books.store.reads
    second = await books.pipeline.run_now([transfer("t3", "alice", "bob", 100)])

    assert [status(result) for result in (*first, *second)] == ["APPLIED"] * 3
    assert books.store.reads == reads  # the second batch read nothing: both balances were cached
    assert books.store.write_order == ["t1", "t3"]
    assert (books.balance("alice"), books.balance("bob")) == (650, 1_350)
    assert books.unit_of_work.balance("bob").version == 3  # funded, then one save per batch
    assert books.unit_of_work.outbox_topics().count("ledger.transaction.applied") >= 3
    books.assert_books_balance()


async def test_a_balance_moved_under_the_cache_is_decided_by_the_locked_path() -> None:
    books = Books("alice", "bob", funded_minor=1_000)
    await books.fund()
    await books.pipeline.run_now([transfer("t1", "alice", "bob", 100)])  # cached: alice 900
    # Another process spends from alice (its own locked batch; this process's cache does not hear it).
    await execute_batch(books.unit_of_work, [transfer("elsewhere", "alice", "bob", 850)], clock=clock)

    (result,) = await books.pipeline.run_now([transfer("t2", "alice", "bob", 100)])

    assert status(result) == "REJECTED"  # 50 left, not the cached 900
    assert books.cache.missing(["alice", "bob"]) == ["alice", "bob"]
    assert books.balance("alice") == 50
    books.assert_books_balance()


async def test_a_refusal_on_a_stale_read_is_decided_again_on_the_store() -> None:
    books = Books("alice", "bob")
    (refused,) = await books.pipeline.run_now([transfer("t1", "alice", "bob", 500)])
    assert status(refused) == "REJECTED"
    await execute_batch(books.unit_of_work, [transfer("fund", "@World", "alice", 700, allow_overdraft=True)])

    (result,) = await books.pipeline.run_now([transfer("t2", "alice", "bob", 500)])

    assert status(result) == "APPLIED"
    assert (books.balance("alice"), books.balance("bob")) == (200, 500)


async def test_a_replay_and_a_refusal_are_answered_as_the_locked_path_answers_them() -> None:
    books = Books("alice", "bob", funded_minor=1_000)
    await books.fund()
    (first,) = await books.pipeline.run_now([transfer("t1", "alice", "bob", 100)])

    (again,) = await books.pipeline.run_now([transfer("t1", "alice", "bob", 100)])
    (reused,) = await books.pipeline.run_now([transfer("t1", "alice", "bob", 999)])
    (missing,) = await books.pipeline.run_now([transfer("t2", "alice", "nobody", 1)])

    assert again.replayed and again.unwrap().transaction_id == first.unwrap().transaction_id
    assert reused.error is not None and reused.error.code == "REFERENCE_REUSED"
    assert missing.error is not None and missing.error.code == "NOT_FOUND"
    assert books.balance("bob") == 1_100
    books.assert_books_balance()


async def test_holds_internal_balances_and_monitored_balances_take_the_locked_path() -> None:
    books = Books("alice", "bob", funded_minor=1_000)
    await books.fund()
    books.unit_of_work.add_monitor(Monitor("mon_1", "bob", "balance", ">", 1_500, is_triggered=False))

    results = [
        *(await books.pipeline.run_now([transfer("hold", "alice", "bob", 10, inflight=True)])),
        *(await books.pipeline.run_now([transfer("internal", "@World", "alice", 10, allow_overdraft=True)])),
        *(await books.pipeline.run_now([transfer("monitored", "alice", "bob", 600)])),
    ]

    assert [status(result) for result in results] == ["INFLIGHT", "APPLIED", "APPLIED"]
    assert books.store.write_order == []  # not one fast-lane write
    assert books.unit_of_work.tables.monitors["mon_1"].is_triggered  # the locked path fired it
    reads = books.store.reads
    (again,) = await books.pipeline.run_now([transfer("monitored-again", "alice", "bob", 1)])
    assert status(again) == "APPLIED" and books.store.reads == reads  # known: no read before the locked path


async def test_a_batch_posted_on_a_write_in_flight_is_written_after_it() -> None:
    books = Books("alice", "bob", "carol", funded_minor=1_000)
    await books.fund()
    await books.pipeline.run_now([transfer("warm", "alice", "bob", 1), transfer("warm2", "carol", "bob", 1)])
    books.store.hold_writes()

    first = asyncio.create_task(books.pipeline.run_now([transfer("t1", "alice", "bob", 900)]))
    await asyncio.sleep(0)
    second = asyncio.create_task(books.pipeline.run_now([transfer("t2", "alice", "carol", 99)]))
    await asyncio.sleep(0)
    books.store.release_writes()
    (one,), (two,) = await asyncio.gather(first, second)

    # t2 was posted on what t1 leaves (alice 99), in memory, before t1 was written.
    assert (status(one), status(two)) == ("APPLIED", "APPLIED")
    assert books.store.write_order[-2:] == ["t1", "t2"]
    assert books.balance("alice") == 0
    books.assert_books_balance()


async def test_a_batch_posted_on_a_write_that_fails_is_not_written_on_it() -> None:
    books = Books("alice", "bob", funded_minor=1_000)
    await books.fund()
    await books.pipeline.run_now([transfer("taken", "alice", "bob", 1)])
    books.cache.forget(["alice"])
    await books.pipeline.run_now([transfer("warm", "bob", "alice", 1)])  # cached again at 1_000
    books.store.hold_writes()

    # A replay of "taken" is posted again in memory (only the store knows the reference), and the
    # next batch is posted on what it would leave (alice 999, all of which "after" spends).
    replay = asyncio.create_task(books.pipeline.run_now([transfer("taken", "alice", "bob", 1)]))
    await asyncio.sleep(0)
    after = asyncio.create_task(books.pipeline.run_now([transfer("after", "alice", "bob", 999)]))
    await asyncio.sleep(0)
    books.store.release_writes()
    (replayed,), (applied,) = await asyncio.gather(replay, after)

    assert replayed.replayed
    assert status(applied) == "APPLIED"
    assert books.store.write_order.count("after") == 0  # never written on the failed write's leavings
    # Decided again on the store's 1_000: the replay moved nothing.
    assert books.balance("alice") == 1 and books.balance("bob") == 1_999
    books.assert_books_balance()


async def test_a_large_caller_formed_batch_is_written_in_slices_that_keep_its_order() -> None:
    books = Books("alice", "bob", funded_minor=10_000)
    books.pipeline = PostingPipeline(books.unit_of_work, clock=clock, batch_size_max=100, fast_lane=books.lane)
    await books.fund()
    books.store.write_order.clear()
    operations = [transfer(f"k{index:03d}", "alice", "bob", 40 + index % 7) for index in range(300)]

    results = await books.pipeline.run_now(operations)

    # Three slices of 100, each posted on what the one before leaves and written after it.
    assert books.store.write_order == ["k000", "k100", "k200"]
    assert [result.unwrap().reference for result in results] == [f"k{index:03d}" for index in range(300)]
    spent = sum(40 + index % 7 for index in range(300) if status(results[index]) == "APPLIED")
    assert books.balance("alice") == 10_000 - spent and books.balance("bob") == 10_000 + spent
    books.assert_books_balance()


async def test_slices_keep_the_callers_order_when_one_takes_the_locked_path() -> None:
    books = Books("alice", "carol", "dave", "erin", funded_minor=0)
    books.pipeline = PostingPipeline(books.unit_of_work, clock=clock, batch_size_max=100, fast_lane=books.lane)
    await books.pipeline.run_now([transfer("fund-dave", "@World", "dave", 100_000, allow_overdraft=True)])
    await books.pipeline.run_now([transfer("warm", "alice", "carol", 1)])  # alice cached, empty
    operations = [transfer(f"k{index:03d}", "dave", "erin", 10) for index in range(400)]
    operations[0] = transfer("k000", "@World", "alice", 500, allow_overdraft=True)  # a locked-path slice
    operations[150] = transfer("k150", "alice", "carol", 500)  # spends what k000 brings
    books.unit_of_work.begins_open.clear()  # the locked slice's transaction is slow to start

    running = asyncio.create_task(books.pipeline.run_now(operations))
    for _ in range(20):
        await asyncio.sleep(0)  # room for any later slice that would not wait for it
    books.unit_of_work.begins_open.set()
    results = await running

    assert status(results[150]) == "APPLIED"
    assert [result.unwrap().reference for result in results] == [f"k{index:03d}" for index in range(400)]
    assert books.balance("carol") == 500
    books.assert_books_balance()


async def test_the_cache_is_bounded_and_keeps_what_a_batch_staged_over_an_older_read() -> None:
    cache = BalanceCache(capacity=3)
    owner = BalanceOwner(None, is_internal=False)
    cache.fill({f"b{n}": BalanceState(f"b{n}", "USD") for n in range(5)}, {f"b{n}": owner for n in range(5)}, set())
    assert len(cache) == 3 and cache.missing(["b0", "b1", "b4"]) == ["b0", "b1"]

    staged = BalanceState("b4", "USD", credit_balance=10, version=7, touched=True)
    cache.stage(["b4"], [staged], asyncio.get_running_loop().create_future())
    cache.fill({"b4": BalanceState("b4", "USD", version=7)}, {"b4": owner}, set())  # a read that started earlier
    taken = cache.take(["b4"])
    assert taken is not None and taken[0]["b4"].version == 8 and taken[0]["b4"].credit_balance == 10


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 700), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 4),
)
def test_concurrent_batches_with_a_fast_lane_keep_the_books(
    moves: list[tuple[int, int, int, bool]], workers: int
) -> None:
    """Random transfers among four funded balances, submitted at once to a pipeline with a fast lane
    and several workers, some sent past it by another process's locked batches: the books balance,
    nothing is overdrawn, the money is all there, and every reference is written once."""

    async def scenario() -> None:
        names = ["a", "b", "c", "d"]
        books = Books(*names, funded_minor=1_000)
        books.pipeline = PostingPipeline(books.unit_of_work, workers=workers, clock=clock, fast_lane=books.lane)
        await books.fund()
        await books.pipeline.start()
        try:
            calls = []
            for index, (source, destination, amount, elsewhere) in enumerate(moves):
                if source == destination:
                    continue
                operation = transfer(f"m{index}", names[source], names[destination], amount)
                if elsewhere:
                    calls.append(execute_batch(books.unit_of_work, [operation], clock=clock))
                else:
                    calls.append(asyncio.ensure_future(books.pipeline.submit(operation)))
            await asyncio.gather(*calls)
        finally:
            await books.pipeline.stop()
        tables = books.unit_of_work.tables
        assert all(tables.balances[name].balance >= 0 for name in names)
        assert sum(tables.balances[name].balance for name in names) == 4_000
        expected = {f"m{index}" for index, (source, destination, *_) in enumerate(moves) if source != destination}
        assert expected <= set(tables.references)
        assert len([record for record in tables.transactions.values() if record.reference in expected]) == len(expected)
        books.assert_books_balance()

    asyncio.run(scenario())
