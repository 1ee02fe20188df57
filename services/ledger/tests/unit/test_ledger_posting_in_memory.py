"""The real posting step (`service/posting/`: pipeline, executor, loading, apply, writes) on an
in-memory fake of its store port: group commit's rules without PostgreSQL.

Operations are parsed by the real step 2 (`service/commands.py`); only the store is a fake
(`in_memory_posting_store.py`), so every assertion here is on what the posting code decided and
handed the store. The same rules run against PostgreSQL in `tests/integration`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from clearway.ledger.domain.entry_rules import ExternalTransaction, ExternalTransactionAlreadyReconciled
from clearway.ledger.domain.errors import NotFound, ReferenceConflict, StateConflict
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import Bucket, Hold, Status
from clearway.ledger.domain.schema import build_entry, load_shipped_schemas
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.commands import build_transfer_request
from clearway.ledger.service.entries import entry_accounts
from clearway.ledger.service.ports import AccountKey, PostingUnitOfWork
from clearway.ledger.service.posting.operations import (
    CommitHold,
    Operation,
    OperationResult,
    PostEntry,
    Transfer,
    VoidHold,
)
from clearway.ledger.service.posting.pipeline import PostingPipeline, execute_batch

from .in_memory_posting_store import InMemoryPostingStore, InMemoryPostingUnitOfWork, UniqueViolation

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def transfer(reference: str, source: str, destination: str, amount_minor: int, **options: Any) -> Transfer:
    request = build_transfer_request(
        reference=reference,
        currency="USD",
        precise_amount=amount_minor,
        source=source,
        destination=destination,
        **options,
    )
    return Transfer(request)


def split(reference: str, source: str, destinations: dict[str, str], amount_minor: int) -> Transfer:
    request = build_transfer_request(
        reference=reference,
        currency="USD",
        precise_amount=amount_minor,
        source=source,
        destinations=[{"identifier": key, "distribution": value} for key, value in destinations.items()],
    )
    return Transfer(request)


async def run(store: PostingUnitOfWork, *operations: Operation, atomic: bool = False) -> list[OperationResult]:
    return await execute_batch(store, list(operations), clock=clock, atomic=atomic)


async def funded(amounts: dict[str, int]) -> InMemoryPostingUnitOfWork:
    """A store whose customer balances hold `amounts`, minted from `@World` in one batch."""
    store = InMemoryPostingUnitOfWork()
    for balance_id in ("alice", "bob", "carol"):
        store.open_balance(balance_id)
    minted = [
        transfer(f"fund-{balance_id}", "@World", balance_id, amount, allow_overdraft=True)
        for balance_id, amount in amounts.items()
    ]
    if minted:
        for result in await run(store, *minted):
            assert result.unwrap().status is Status.APPLIED
    return store


def columns(store: InMemoryPostingUnitOfWork, balance_id: str) -> tuple[int, int, int, int]:
    state = store.balance(balance_id)
    return (state.credit_balance, state.debit_balance, state.inflight_credit_balance, state.inflight_debit_balance)


def assert_books_balance(store: InMemoryPostingUnitOfWork) -> None:
    """Per currency and bucket debits equal credits, and every balance equals the sum of its lines."""
    per_bucket: dict[tuple[str, Bucket], int] = defaultdict(int)
    per_balance: dict[tuple[str, Bucket], list[int]] = defaultdict(lambda: [0, 0])
    for line, _ in store.tables.lines:
        per_bucket[(line.currency, line.bucket)] += line.debit_minor - line.credit_minor
        per_balance[(line.balance_id, line.bucket)][0] += line.debit_minor
        per_balance[(line.balance_id, line.bucket)][1] += line.credit_minor
    assert store.tables.lines, "a check of an empty journal proves nothing"
    assert all(total == 0 for total in per_bucket.values()), dict(per_bucket)
    for balance_id, state in store.tables.balances.items():
        applied, inflight = per_balance[(balance_id, Bucket.APPLIED)], per_balance[(balance_id, Bucket.INFLIGHT)]
        assert [state.debit_balance, state.credit_balance] == applied, (balance_id, state)
        assert [state.inflight_debit_balance, state.inflight_credit_balance] == inflight, (balance_id, state)


# ---- one transfer ------------------------------------------------------------------------------


async def test_a_transfer_applies_and_each_balance_equals_the_sum_of_its_lines() -> None:
    store = await funded({"alice": 10_000})

    (result,) = await run(store, transfer("pay-1", "alice", "bob", 2_500))

    record = result.unwrap()
    assert (record.status, record.amount_minor, result.replayed) == (Status.APPLIED, 2_500, False)
    assert store.balance("alice").balance == 7_500
    assert store.balance("bob").balance == 2_500
    assert store.internal_balance("@World").balance == -10_000
    assert store.by_reference("pay-1") == record
    assert {
        (line.balance_id, line.debit_minor, line.credit_minor)
        for line, _ in store.tables.lines
        if line.transaction_id == record.transaction_id
    } == {
        ("alice", 2_500, 0),
        ("bob", 0, 2_500),
    }
    assert store.outbox_topics() == ["ledger.transaction.applied", "ledger.transaction.applied"]
    assert_books_balance(store)


async def test_internal_balances_are_created_once_on_first_use() -> None:
    store = await funded({"alice": 1_000, "bob": 2_000})

    await run(store, transfer("fund-carol", "@World", "carol", 3_000, allow_overdraft=True))

    world = [key for key in store.tables.indicators if key[0] == "@World"]
    assert world == [("@World", "USD")]
    assert store.internal_balance("@World").balance == -6_000
    assert store.tables.owners[store.tables.indicators[("@World", "USD")]].is_internal


# ---- replays -----------------------------------------------------------------------------------


async def test_a_replay_by_reference_answers_the_same_record_and_moves_nothing() -> None:
    store = await funded({"alice": 10_000})
    (first,) = await run(store, transfer("pay-1", "alice", "bob", 2_500))
    before = columns(store, "alice"), columns(store, "bob")
    lines_before = len(store.tables.lines)

    (again,) = await run(store, transfer("pay-1", "alice", "bob", 2_500))
    same_batch = await run(store, transfer("pay-2", "alice", "bob", 100), transfer("pay-2", "alice", "bob", 100))

    assert again.replayed and again.unwrap() == first.unwrap()
    assert (columns(store, "alice"), columns(store, "bob")) != before  # pay-2 moved money once...
    assert store.balance("alice").balance == 10_000 - 2_500 - 100  # ...and only once
    assert [result.replayed for result in same_batch] == [False, True]
    assert same_batch[1].unwrap().transaction_id == same_batch[0].unwrap().transaction_id
    assert len(store.tables.lines) == lines_before + 2


async def test_the_same_reference_with_another_payload_is_refused() -> None:
    store = await funded({"alice": 10_000})
    (first,) = await run(store, transfer("pay-1", "alice", "bob", 2_500))

    (other,) = await run(store, transfer("pay-1", "alice", "bob", 2_600))

    assert isinstance(other.error, ReferenceConflict)
    assert other.error.extra.get("transaction_id") == first.unwrap().transaction_id
    assert store.balance("bob").balance == 2_500


# ---- error isolation and atomic batches --------------------------------------------------------


async def test_a_refused_transfer_does_not_fail_its_neighbours_in_the_batch() -> None:
    store = await funded({"alice": 10_000})
    commits_before = store.commits

    results = await run(
        store,
        transfer("ok-1", "alice", "bob", 1_000),
        transfer("unknown", "alice", "nobody", 1_000),  # refused: no such balance
        transfer("ok-2", "alice", "carol", 2_000),
        transfer("broke", "bob", "carol", 5_000),  # recorded REJECTED: bob holds 1,000
    )

    assert results[0].unwrap().status is Status.APPLIED
    assert isinstance(results[1].error, NotFound) and results[1].record is None
    assert results[2].unwrap().status is Status.APPLIED
    assert results[3].unwrap().status is Status.REJECTED
    assert store.commits == commits_before + 1, "one batch, one commit"
    assert store.balance("alice").balance == 7_000
    assert store.balance("bob").balance == 1_000
    assert store.balance("carol").balance == 2_000
    assert "unknown" not in store.tables.references
    assert store.by_reference("broke").status is Status.REJECTED
    assert_books_balance(store)


async def test_an_atomic_batch_with_one_refusal_changes_nothing() -> None:
    store = await funded({"alice": 10_000})
    before = {balance_id: columns(store, balance_id) for balance_id in ("alice", "bob", "carol")}
    transactions_before, outbox_before = dict(store.tables.transactions), len(store.tables.outbox)
    pipeline = PostingPipeline(store, clock=clock)

    run_ = await pipeline.run_atomic(
        [
            transfer("a-1", "alice", "bob", 1_000),
            transfer("a-2", "alice", "carol", 20_000),  # overdraws: REJECTED refuses the whole batch
        ]
    )

    assert run_.applied is False
    assert [result.unwrap().status for result in run_.results] == [Status.APPLIED, Status.REJECTED]
    assert {balance_id: columns(store, balance_id) for balance_id in before} == before
    assert store.tables.transactions == transactions_before
    assert len(store.tables.outbox) == outbox_before
    assert store.rollbacks == 1
    # The balances it locked, as they stood (unchanged) when it was refused.
    assert run_.balances["alice"].balance == 10_000

    applied = await pipeline.run_atomic([transfer("a-3", "alice", "bob", 1_000)])
    assert applied.applied and applied.balances["bob"].balance == 1_000 == store.balance("bob").balance


# ---- holds -------------------------------------------------------------------------------------


async def test_a_hold_is_committed_in_part_and_the_rest_voided() -> None:
    store = await funded({"alice": 10_000})

    (held,) = await run(store, transfer("hold-1", "alice", "bob", 4_000, inflight=True))
    hold_id = held.unwrap().transaction_id
    assert held.unwrap().status is Status.INFLIGHT
    assert columns(store, "alice") == (10_000, 0, 0, 4_000)
    assert store.balance("alice").available == 6_000
    assert columns(store, "bob") == (0, 0, 4_000, 0)

    (committed,) = await run(store, CommitHold(hold_id, 1_500))
    assert committed.unwrap().status is Status.APPLIED
    assert committed.unwrap().parent_transaction == hold_id
    assert columns(store, "alice") == (10_000, 1_500, 0, 2_500)
    assert columns(store, "bob") == (1_500, 0, 2_500, 0)

    (voided,) = await run(store, VoidHold(hold_id))
    assert (voided.unwrap().status, voided.unwrap().amount_minor) == (Status.VOID, 2_500)
    assert columns(store, "alice") == (10_000, 1_500, 0, 0)
    assert columns(store, "bob") == (1_500, 0, 0, 0)
    hold, _ = store.tables.holds[hold_id]
    assert (hold.committed_minor, hold.voided_minor, hold.remaining_minor) == (1_500, 2_500, 0)

    (late,) = await run(store, CommitHold(hold_id, 1))
    assert isinstance(late.error, StateConflict)
    assert store.outbox_topics()[-3:] == [
        "ledger.transaction.inflight",
        "ledger.transaction.committed",
        "ledger.transaction.voided",
    ]
    assert_books_balance(store)


async def test_a_hold_created_and_committed_in_one_batch_is_saved_settled() -> None:
    store = await funded({"alice": 10_000})
    hold = transfer("hold-2", "alice", "bob", 3_000, inflight=True)
    (held,) = await run(store, hold)
    hold_id = held.unwrap().transaction_id

    results = await run(store, CommitHold(hold_id, 1_000, reference="commit-1"), CommitHold(hold_id, 2_000))

    assert [result.unwrap().amount_minor for result in results] == [1_000, 2_000]
    saved: Hold = store.tables.holds[hold_id][0]
    assert (saved.committed_minor, saved.remaining_minor) == (3_000, 0)
    (replayed,) = await run(store, CommitHold(hold_id, 1_000, reference="commit-1"))
    assert replayed.replayed and replayed.unwrap() == results[0].unwrap()


# ---- spending rules ----------------------------------------------------------------------------


async def test_insufficient_funds_without_overdraft_is_refused() -> None:
    store = await funded({"alice": 1_000})

    (refused,) = await run(store, transfer("too-much", "alice", "bob", 1_001))
    (allowed,) = await run(store, transfer("overdraft", "alice", "bob", 1_001, allow_overdraft=True, overdraft_limit=5))

    record = refused.unwrap()
    assert record.status is Status.REJECTED and record.rejection_reason
    assert record.meta_data["blnk_rejection_reason"] == record.rejection_reason
    assert not [line for line, _ in store.tables.lines if line.transaction_id == record.transaction_id]
    assert "ledger.transaction.rejected" in store.outbox_topics()
    assert allowed.unwrap().status is Status.APPLIED
    assert store.balance("alice").balance == -1
    assert store.balance("bob").balance == 1_001


# ---- a mixed batch -----------------------------------------------------------------------------


async def test_debits_equal_credits_across_a_mixed_batch() -> None:
    store = await funded({"alice": 50_000, "bob": 5_000})
    (held,) = await run(store, transfer("hold-3", "alice", "carol", 7_000, inflight=True))

    results = await run(
        store,
        split("split-1", "alice", {"bob": "50%", "carol": "left"}, 10_001),
        transfer("pay-3", "bob", "carol", 4_999),
        CommitHold(held.unwrap().transaction_id, 2_000),
        transfer("hold-4", "bob", "alice", 3_000, inflight=True),
        transfer("broke-2", "carol", "alice", 1_000_000),
    )

    statuses = [result.unwrap().status for result in results]
    assert statuses == [Status.APPLIED, Status.APPLIED, Status.APPLIED, Status.INFLIGHT, Status.REJECTED]
    assert results[0].unwrap().destinations is not None
    assert sorted(item["amount_minor"] for item in results[0].unwrap().destinations or []) == [5_000, 5_001]
    total = sum(store.balance(balance_id).balance for balance_id in ("alice", "bob", "carol"))
    assert total == 55_000 == -store.internal_balance("@World").balance
    assert_books_balance(store)


async def test_a_monitor_fires_once_when_its_condition_becomes_true() -> None:
    store = await funded({"alice": 10_000})
    store.add_monitor(Monitor("mon_1", "alice", "balance", "<", 5_000, is_triggered=False))

    await run(store, transfer("m-1", "alice", "bob", 4_000))
    assert "ledger.balance.monitor_triggered" not in store.outbox_topics()
    await run(store, transfer("m-2", "alice", "bob", 2_000))
    await run(store, transfer("m-3", "alice", "bob", 1_000))

    assert store.outbox_topics().count("ledger.balance.monitor_triggered") == 1
    assert store.tables.monitors["mon_1"].is_triggered


# ---- the pipeline ------------------------------------------------------------------------------


async def test_the_pipeline_answers_each_caller_from_group_committed_batches() -> None:
    store = await funded({"alice": 100_000})
    pipeline = PostingPipeline(store, workers=2, batch_size_max=8, clock=clock)
    await pipeline.start()
    try:
        commits_before = store.commits
        results = await asyncio.gather(
            *(pipeline.submit(transfer(f"p-{index}", "alice", "bob", 100 + index)) for index in range(40))
        )
    finally:
        await pipeline.stop()

    records: list[TransactionRecord] = [result.unwrap() for result in results]
    assert [record.reference for record in records] == [f"p-{index}" for index in range(40)]
    assert store.balance("bob").balance == sum(100 + index for index in range(40))
    assert store.commits - commits_before < 40, "batched: fewer commits than operations"
    assert_books_balance(store)


async def test_a_lost_race_runs_the_batch_again(monkeypatch: pytest.MonkeyPatch) -> None:
    store = await funded({"alice": 10_000})
    attempts = itertools.count()
    write_postings = InMemoryPostingStore.write_postings

    async def lose_the_first_race(self: InMemoryPostingStore, *args: Any) -> Any:
        if next(attempts) == 0:
            raise UniqueViolation("a concurrent batch inserted the reference first")
        return await write_postings(self, *args)

    monkeypatch.setattr(InMemoryPostingStore, "write_postings", lose_the_first_race)
    (result,) = await run(store, transfer("race-1", "alice", "bob", 500))

    assert result.unwrap().status is Status.APPLIED
    assert next(attempts) == 2, "ran twice"
    assert store.balance("bob").balance == 500, "the first attempt rolled back: posted once"
    assert store.rollbacks == 1


# ---- schema entries through the port -----------------------------------------------------------


async def test_a_schema_entry_creates_its_accounts_and_reconciles_once() -> None:
    store = InMemoryPostingUnitOfWork()
    schema = {schema.key: schema for schema in load_shipped_schemas()}["bulk_split"]

    def entry(ik: str, external: ExternalTransaction) -> PostEntry:
        resolved = build_entry(schema, "received_bulk_payment", {"amount": "500"}, "USD")
        accounts, condition_accounts = entry_accounts(schema, resolved)
        return PostEntry(
            "ldg_1", ik, resolved, f"hash-{ik}", accounts, condition_accounts, external_transaction=external
        )

    (posted,) = await run(store, entry("bulk-1", ExternalTransaction("bank_1", 500, "USD")))
    (again,) = await run(store, entry("bulk-2", ExternalTransaction("bank_1", 500, "USD")))

    record = posted.unwrap()
    assert record.reference == "entry:ldg_1:bulk-1" and record.amount_minor == 500
    cash = store.tables.accounts[AccountKey("ldg_1", "assets/operating", "USD")].balance_id
    assert store.balance(cash).debit_balance == 500
    assert [row.ik for row in store.tables.entries.values()] == ["bulk-1"]
    assert "ledger.entry.posted" in store.outbox_topics()
    assert isinstance(again.error, ExternalTransactionAlreadyReconciled)
    assert len(store.tables.accounts) == 2, "the refused entry's accounts already existed; nothing new"
    assert_books_balance(store)
