"""Random batches of transfers, holds, commits and voids through the real posting step on the
in-memory store (`in_memory_posting_store.py`): after every batch the books balance, each balance
equals its lines, no customer spends past zero, inflight columns equal the open holds, and an
atomic batch that refused anything changed nothing. The pure posting rules have their own state
machine (`test_ledger_posting_properties.py`); the database keeps them in `tests/integration`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearway.ledger.domain.posting import Status
from clearway.ledger.service.posting.operations import CommitHold, Operation, VoidHold

from .test_ledger_posting_in_memory import assert_books_balance, columns, funded, run, transfer

CUSTOMERS = ("alice", "bob", "carol")
STARTING_MINOR = 10_000
transfers = st.tuples(
    st.just("pay"), st.sampled_from(CUSTOMERS), st.sampled_from(CUSTOMERS), st.integers(1, 6_000), st.booleans()
)
settlements = st.tuples(st.sampled_from(["commit", "void"]), st.integers(0, 50), st.integers(1, 6_000))
random_batches = st.lists(st.lists(st.one_of(transfers, settlements), min_size=1, max_size=10), min_size=1, max_size=6)


async def play(batches: list[list[tuple[Any, ...]]], atomic: list[bool]) -> None:
    store = await funded(dict.fromkeys(CUSTOMERS, STARTING_MINOR))
    holds: list[str] = []
    counter = itertools.count()
    for number, steps in enumerate(batches):
        operations: list[Operation] = []
        for step in steps:
            if step[0] == "pay":
                _, source, destination, amount, inflight = step
                operations.append(transfer(f"r-{next(counter)}", source, destination, amount, inflight=inflight))
            elif holds:
                kind, pick, amount = step
                hold_id = holds[pick % len(holds)]
                operations.append(CommitHold(hold_id, amount) if kind == "commit" else VoidHold(hold_id))
        if not operations:
            continue
        before = {balance_id: columns(store, balance_id) for balance_id in CUSTOMERS}
        results = await run(store, *operations, atomic=atomic[number % len(atomic)])
        holds += [
            result.record.transaction_id
            for result in results
            if result.record is not None and result.record.status is Status.INFLIGHT and not result.replayed
        ]
        if atomic[number % len(atomic)] and any(result.refused for result in results):
            assert {balance_id: columns(store, balance_id) for balance_id in CUSTOMERS} == before
        for balance_id in CUSTOMERS:
            assert store.balance(balance_id).available >= 0, "no customer balance spends past zero"
        assert sum(store.balance(balance_id).balance for balance_id in CUSTOMERS) == STARTING_MINOR * 3
        held: dict[str, int] = defaultdict(int)
        for hold, _ in store.tables.holds.values():
            for leg in hold.debits:
                held[leg.identifier] += hold.remaining_minor
        assert {balance_id: store.balance(balance_id).inflight_debit_balance for balance_id in CUSTOMERS} == {
            balance_id: held[balance_id] for balance_id in CUSTOMERS
        }
        assert_books_balance(store)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=random_batches, atomic=st.lists(st.booleans(), min_size=1, max_size=3))
def test_random_batches_keep_the_books(batches: list[list[tuple[Any, ...]]], atomic: list[bool]) -> None:
    asyncio.run(play(batches, atomic))
