"""Property tests of the real posting path: random operation sequences against PostgreSQL.

A Hypothesis state machine sends transfers, splits, holds, partial commits, voids, refunds,
replays and deliberately refused operations through the real `PostingPipeline` and
`execute_batch` against a migrated database. It keeps its own small model of what every
balance and hold must hold (written from the rules, not from the ledger's code) and after
every step checks, with SQL:

- the verifier finds no difference: per currency and bucket debits equal credits, each balance
  equals the sums of its entries, balance = credit - debit, inflight columns equal open holds;
- every balance and hold row equals the model exactly, and no balance is below its policy;
- a refused operation (rejection or error) and a replay leave every balance byte-identical.

Hypothesis runs in a worker thread (its rules are synchronous) and hands each database call
to the test's event loop, where the pool and the pipeline live.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import asyncpg
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from clearway.ledger.adapters.posting_store import SqlPostingUnitOfWork
from clearway.ledger.domain.distribution import Distribution
from clearway.ledger.domain.errors import (
    AlreadyRefunded,
    HoldExceeded,
    InvalidRequest,
    LedgerError,
    NotFound,
    ReferenceConflict,
    StateConflict,
)
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.service import catalog
from clearway.ledger.service.posting.operations import (
    CommitHold,
    Operation,
    OperationResult,
    Refund,
    Transfer,
    VoidHold,
)
from clearway.ledger.service.posting.pipeline import PostingPipeline, execute_batch
from clearway.ledger.verify import verify_ledger
from clearway.platform.ids import new_id

T = TypeVar("T")
CALL_TIMEOUT_S = 30
CURRENCY_PRECISION = 100
WORLD = "@World"
STRICT = -1  # overdraft policy: no overdraft; None = unlimited; an int = available may reach -limit
CUSTOMER_POLICIES: list[tuple[str, str, int | None]] = [
    ("usd-strict-a", "USD", STRICT),
    ("usd-strict-b", "USD", STRICT),
    ("usd-limit", "USD", 5_000),
    ("eur-strict", "EUR", STRICT),
]
amounts = st.integers(min_value=1, max_value=8_000)


@dataclass
class ModelBalance:
    balance_id: str
    currency: str
    policy: int | None
    credit: int = 0
    debit: int = 0
    inflight_credit: int = 0
    inflight_debit: int = 0

    @property
    def available(self) -> int:
        return self.credit - self.debit - self.inflight_debit

    def columns(self) -> tuple[int, int, int, int]:
        return (self.credit, self.debit, self.inflight_credit, self.inflight_debit)


@dataclass
class ModelTransaction:
    transaction_id: str
    status: str
    currency: str
    debits: list[tuple[str, int]]  # (balance id, amount) per leg
    credits: list[tuple[str, int]]
    destinations_internal: bool
    request: TransferRequest | None = None
    refunded: bool = False
    # Holds only:
    amount_minor: int = 0
    committed_minor: int = 0
    voided_minor: int = 0

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.committed_minor - self.voided_minor

    @property
    def is_split(self) -> bool:
        return len(self.debits) > 1 or len(self.credits) > 1


@dataclass
class Bridge:
    """Runs coroutines on the test's loop from Hypothesis's thread."""

    loop: asyncio.AbstractEventLoop
    pool: asyncpg.Pool
    pipeline: PostingPipeline

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=CALL_TIMEOUT_S)


@dataclass
class Snapshot:
    balances: list[tuple[Any, ...]]
    holds: list[tuple[Any, ...]]
    entries: int
    transactions: int


@dataclass
class Expectation:
    """What one step must do: the outcome and which tables it may change."""

    error: type[LedgerError] | None = None
    status: str | None = None
    replayed: bool = False
    changes_money: bool = True
    writes_transaction: bool = True


async def _snapshot(pool: asyncpg.Pool) -> Snapshot:
    async with pool.acquire() as connection:
        balances = await connection.fetch("SELECT * FROM balances ORDER BY balance_id")
        holds = await connection.fetch("SELECT * FROM holds ORDER BY transaction_id")
        entries = await connection.fetchval("SELECT count(*) FROM entries")
        transactions = await connection.fetchval("SELECT count(*) FROM transactions")
    return Snapshot([tuple(row) for row in balances], [tuple(row) for row in holds], entries, transactions)


async def _balance_columns(pool: asyncpg.Pool, balance_ids: list[str]) -> dict[str, tuple[int, int, int, int]]:
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            """SELECT balance_id, credit_balance, debit_balance, inflight_credit_balance, inflight_debit_balance,
                      balance, credit_balance - debit_balance AS recomputed
               FROM balances WHERE balance_id = ANY($1::text[])""",
            balance_ids,
        )
    assert all(row["balance"] == row["recomputed"] for row in rows)
    return {
        row["balance_id"]: (
            row["credit_balance"],
            row["debit_balance"],
            row["inflight_credit_balance"],
            row["inflight_debit_balance"],
        )
        for row in rows
    }


async def _hold_rows(pool: asyncpg.Pool, transaction_ids: list[str]) -> dict[str, tuple[int, int, int]]:
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT transaction_id, amount_minor, committed_minor, voided_minor FROM holds "
            "WHERE transaction_id = ANY($1::text[])",
            transaction_ids,
        )
    return {row["transaction_id"]: (row["amount_minor"], row["committed_minor"], row["voided_minor"]) for row in rows}


async def _verify(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        report = await verify_ledger(connection)
    assert report.ok, report.as_json()


async def _world_state(pool: asyncpg.Pool, currency: str) -> ModelBalance:
    row, _ = await catalog.create_balance(
        pool, ledger_id=None, identity_id=None, currency=currency, indicator=WORLD, meta_data={}
    )
    return ModelBalance(
        row["balance_id"],
        currency,
        None,
        credit=row["credit_balance"],
        debit=row["debit_balance"],
        inflight_credit=row["inflight_credit_balance"],
        inflight_debit=row["inflight_debit_balance"],
    )


async def _customer(pool: asyncpg.Pool, currency: str, policy: int | None) -> ModelBalance:
    row, created = await catalog.create_balance(
        pool, ledger_id="general_ledger_id", identity_id=None, currency=currency, indicator=None, meta_data={}
    )
    assert created
    return ModelBalance(row["balance_id"], currency, policy)


def major_text(amount_minor: int) -> str:
    return str(Decimal(amount_minor).scaleb(-2))


class LedgerDatabaseMachine(RuleBasedStateMachine):
    bridge: ClassVar[Bridge]

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[str, ModelBalance] = {}
        self.names: dict[str, str] = {}  # customer name -> balance id
        self.transactions: dict[str, ModelTransaction] = {}
        self.requests: list[TransferRequest] = []

    @initialize(
        opening_minor=st.lists(
            st.integers(min_value=0, max_value=60_000), min_size=len(CUSTOMER_POLICIES), max_size=len(CUSTOMER_POLICIES)
        )
    )
    def open_balances(self, opening_minor: list[int]) -> None:
        """Fresh customer balances each run (the `@World` ones carry over and are read first)."""
        for currency in ("USD", "EUR"):
            world = self.bridge.run(_world_state(self.bridge.pool, currency))
            self.balances[world.balance_id] = world
        for (name, currency, policy), amount_minor in zip(CUSTOMER_POLICIES, opening_minor, strict=True):
            customer = self.bridge.run(_customer(self.bridge.pool, currency, policy))
            self.balances[customer.balance_id] = customer
            self.names[name] = customer.balance_id
            if amount_minor:
                self.fund(name, amount_minor, "batch")

    # ---- plumbing --------------------------------------------------------------------------

    def identifier_of(self, balance_id: str) -> str:
        return WORLD if self.balances[balance_id].policy is None else balance_id

    def resolve(self, balance_id: str, currency: str) -> str:
        return self.balance_of(WORLD, currency).balance_id if self.balances[balance_id].policy is None else balance_id

    def balance_of(self, identifier: str, currency: str) -> ModelBalance:
        if identifier == WORLD:
            return next(b for b in self.balances.values() if b.policy is None and b.currency == currency)
        return self.balances[identifier]

    def execute(self, operations: list[Operation], channel: str) -> list[OperationResult]:
        async def through_pipeline() -> list[OperationResult]:
            return list(await asyncio.gather(*(self.bridge.pipeline.submit(op) for op in operations)))

        if channel == "pipeline" and len(operations) == 1:
            return self.bridge.run(through_pipeline())
        return self.bridge.run(execute_batch(SqlPostingUnitOfWork(self.bridge.pool), operations))

    def step(self, operation: Operation, expectation: Expectation, channel: str) -> OperationResult:
        """Run one operation and hold it to its expectation, including what it must not touch."""
        before = self.bridge.run(_snapshot(self.bridge.pool))
        (result,) = self.execute([operation], channel)
        after = self.bridge.run(_snapshot(self.bridge.pool))
        if expectation.error is not None:
            assert type(result.error) is expectation.error, (result, expectation)
            assert result.record is None
        else:
            assert result.error is None, (result.error, result.error.extra, expectation)
            assert result.record is not None and result.replayed == expectation.replayed
            assert result.record.status.value == expectation.status, (result.record, expectation)
        if not expectation.changes_money:
            # Byte-identical: every column, the version and updated_at included.
            assert after.balances == before.balances
            assert after.holds == before.holds
            assert after.entries == before.entries
        assert after.transactions == before.transactions + (1 if expectation.writes_transaction else 0)
        return result

    def policy_for(self, debits: list[tuple[str, int]]) -> tuple[bool, int | None]:
        """(strict, limit): the one policy a transfer carries so no source breaks its own."""
        policies = [self.balances[balance_id].policy for balance_id, _ in debits]
        limits = [policy for policy in policies if policy is not None and policy != STRICT]
        strict = STRICT in policies
        return strict, (min(limits) if limits and not strict else None)

    def spending_refused(self, currency: str, debits: list[tuple[str, int]], floor: int | None) -> bool:
        wanted: dict[str, int] = defaultdict(int)
        for balance_id, amount in debits:
            wanted[balance_id] += amount
        return floor is not None and any(self.balances[b].available - amount < floor for b, amount in wanted.items())

    def post(self, debits: list[tuple[str, int]], credits: list[tuple[str, int]], *, inflight: bool) -> None:
        for balance_id, amount in debits:
            if inflight:
                self.balances[balance_id].inflight_debit += amount
            else:
                self.balances[balance_id].debit += amount
        for balance_id, amount in credits:
            if inflight:
                self.balances[balance_id].inflight_credit += amount
            else:
                self.balances[balance_id].credit += amount

    def settle(self, hold: ModelTransaction, part_minor: int, *, commit: bool) -> tuple[list[Any], list[Any]]:
        """Release `part_minor` of a hold, and apply it too when committing."""
        scale = (lambda amount: part_minor) if not hold.is_split else (lambda amount: amount)
        debits = [(balance_id, scale(amount)) for balance_id, amount in hold.debits]
        credits = [(balance_id, scale(amount)) for balance_id, amount in hold.credits]
        self.post([(b, -a) for b, a in debits], [(b, -a) for b, a in credits], inflight=True)
        if commit:
            self.post(debits, credits, inflight=False)
            hold.committed_minor += part_minor
        else:
            hold.voided_minor += part_minor
        return debits, credits

    # ---- transfers ---------------------------------------------------------------------------

    def transfer(
        self,
        debits: list[tuple[str, int]],
        credits: list[tuple[str, int]],
        *,
        currency: str,
        inflight: bool,
        channel: str,
        split_request: TransferRequest | None = None,
    ) -> None:
        # "@World" names the internal balance of the transfer's own currency.
        debits = [(self.resolve(balance_id, currency), amount) for balance_id, amount in debits]
        credits = [(self.resolve(balance_id, currency), amount) for balance_id, amount in credits]
        strict, limit = self.policy_for(debits)
        total = sum(amount for _, amount in debits)
        request = split_request or TransferRequest(
            reference=new_id("ref"),
            currency=currency,
            amount_minor=total,
            currency_precision=CURRENCY_PRECISION,
            source=self.identifier_of(debits[0][0]),
            destination=self.identifier_of(credits[0][0]),
            allow_overdraft=not strict,
            overdraft_limit_minor=limit,
            inflight=inflight,
        )
        floor = 0 if strict else (None if limit is None else -limit)
        involved = [self.balances[b] for b, _ in (*debits, *credits)]
        if {b for b, _ in debits} & {b for b, _ in credits}:
            expectation = Expectation(error=InvalidRequest, changes_money=False, writes_transaction=False)
        elif any(balance.currency != currency for balance in involved) or self.spending_refused(
            currency, debits, floor
        ):
            expectation = Expectation(status="REJECTED", changes_money=False)
        else:
            expectation = Expectation(status="INFLIGHT" if inflight else "APPLIED")
        result = self.step(Transfer(request), expectation, channel)
        self.requests.append(request)
        if result.record is None:
            return
        record = result.record
        assert [(leg.identifier, leg.amount_minor) for leg in record.debit_legs()] == debits
        assert [(leg.identifier, leg.amount_minor) for leg in record.credit_legs()] == credits
        self.transactions[record.transaction_id] = ModelTransaction(
            transaction_id=record.transaction_id,
            status=record.status.value,
            currency=currency,
            debits=debits,
            credits=credits,
            destinations_internal=all(self.balances[b].policy is None for b, _ in credits),
            request=request,
            amount_minor=total,
        )
        if expectation.changes_money:
            self.post(debits, credits, inflight=inflight)

    @rule(
        name=st.sampled_from([name for name, _, _ in CUSTOMER_POLICIES]),
        amount_minor=st.integers(min_value=1, max_value=30_000),
        channel=st.sampled_from(["pipeline", "batch"]),
    )
    def fund(self, name: str, amount_minor: int, channel: str) -> None:
        customer = self.balances[self.names[name]]
        world = self.balance_of(WORLD, customer.currency)
        self.transfer(
            [(world.balance_id, amount_minor)],
            [(customer.balance_id, amount_minor)],
            currency=customer.currency,
            inflight=False,
            channel=channel,
        )

    @rule(
        data=st.data(),
        amount_minor=amounts,
        inflight=st.booleans(),
        channel=st.sampled_from(["pipeline", "batch"]),
    )
    def simple_transfer(self, data: st.DataObject, amount_minor: int, inflight: bool, channel: str) -> None:
        ids = sorted(self.balances)
        source = data.draw(st.sampled_from(ids), label="source")
        destination = data.draw(st.sampled_from(ids), label="destination")
        self.transfer(
            [(source, amount_minor)],
            [(destination, amount_minor)],
            currency=self.balances[source].currency,
            inflight=inflight,
            channel=channel,
        )

    @rule(
        data=st.data(),
        amount_minor=st.integers(min_value=2, max_value=8_000),
        split_sources=st.booleans(),
        inflight=st.booleans(),
        channel=st.sampled_from(["pipeline", "batch"]),
    )
    def split_transfer(
        self, data: st.DataObject, amount_minor: int, split_sources: bool, inflight: bool, channel: str
    ) -> None:
        usd = sorted(b for b in self.balances if self.balances[b].currency == "USD")
        many = data.draw(st.lists(st.sampled_from(usd), min_size=2, max_size=3, unique=True), label="split side")
        one = data.draw(st.sampled_from([b for b in usd if b not in many]), label="single side")
        # Fixed parts for all but the last leg, which takes what is left; no part may be empty.
        parts = data.draw(
            st.lists(st.integers(min_value=1, max_value=amount_minor), min_size=len(many) - 1, max_size=len(many) - 1),
            label="fixed parts",
        )
        if sum(parts) >= amount_minor:
            return
        legs = [*parts, amount_minor - sum(parts)]
        distributions = (
            *(Distribution(self.identifier_of(b), major_text(part)) for b, part in zip(many[:-1], parts, strict=True)),
            Distribution(self.identifier_of(many[-1]), "left"),
        )
        split_side = list(zip(many, legs, strict=True))
        single_side = [(one, amount_minor)]
        debits, credits = (split_side, single_side) if split_sources else (single_side, split_side)
        strict, limit = self.policy_for(debits)
        request = TransferRequest(
            reference=new_id("ref"),
            currency="USD",
            amount_minor=amount_minor,
            currency_precision=CURRENCY_PRECISION,
            source=None if split_sources else self.identifier_of(one),
            destination=self.identifier_of(one) if split_sources else None,
            sources=distributions if split_sources else (),
            destinations=() if split_sources else distributions,
            allow_overdraft=not strict,
            overdraft_limit_minor=limit,
            inflight=inflight,
        )
        self.transfer(debits, credits, currency="USD", inflight=inflight, channel=channel, split_request=request)

    # ---- holds ---------------------------------------------------------------------------------

    def holds(self, *, open_only: bool) -> list[ModelTransaction]:
        return [
            t for t in self.transactions.values() if t.status == "INFLIGHT" and (t.remaining_minor or not open_only)
        ]

    def pick_hold(self, data: st.DataObject) -> ModelTransaction:
        """Mostly an open hold; now and then a settled one, which must be refused."""
        open_holds = self.holds(open_only=True)
        settled = data.draw(st.integers(min_value=0, max_value=4), label="settled?") == 0
        return data.draw(st.sampled_from(self.holds(open_only=False) if settled else open_holds), label="hold")

    @rule(
        data=st.data(),
        amount_minor=st.integers(min_value=1, max_value=3_000),
        channel=st.sampled_from(["pipeline", "batch"]),
    )
    def place_hold(self, data: st.DataObject, amount_minor: int, channel: str) -> None:
        ids = sorted(b for b in self.balances if self.balances[b].currency == "USD")
        source = data.draw(st.sampled_from(ids), label="source")
        destination = data.draw(st.sampled_from([b for b in ids if b != source]), label="destination")
        self.transfer(
            [(source, amount_minor)], [(destination, amount_minor)], currency="USD", inflight=True, channel=channel
        )

    @rule(data=st.data(), channel=st.sampled_from(["pipeline", "batch"]))
    @precondition(lambda self: bool(self.holds(open_only=True)))
    def commit(self, data: st.DataObject, channel: str) -> None:
        hold = self.pick_hold(data)
        if hold.remaining_minor and hold.is_split:
            amount = data.draw(
                st.sampled_from([None, hold.amount_minor, max(1, hold.amount_minor - 1)]), label="amount"
            )
        else:
            amount = data.draw(
                st.one_of(st.none(), st.integers(min_value=1, max_value=max(1, hold.remaining_minor + 50))),
                label="amount",
            )
        part = hold.remaining_minor if amount is None else amount
        if hold.remaining_minor == 0:
            expectation = Expectation(error=StateConflict, changes_money=False, writes_transaction=False)
        elif part > hold.remaining_minor:
            expectation = Expectation(error=HoldExceeded, changes_money=False, writes_transaction=False)
        elif hold.is_split and part != hold.amount_minor:
            expectation = Expectation(error=InvalidRequest, changes_money=False, writes_transaction=False)
        else:
            expectation = Expectation(status="APPLIED")
        result = self.step(CommitHold(hold.transaction_id, amount), expectation, channel)
        if result.record is None:
            return
        assert result.record.parent_transaction == hold.transaction_id and result.record.amount_minor == part
        debits, credits = self.settle(hold, part, commit=True)
        self.transactions[result.record.transaction_id] = ModelTransaction(
            transaction_id=result.record.transaction_id,
            status="APPLIED",
            currency=hold.currency,
            debits=debits,
            credits=credits,
            destinations_internal=hold.destinations_internal,
            amount_minor=part,
        )

    @rule(data=st.data(), channel=st.sampled_from(["pipeline", "batch"]))
    @precondition(lambda self: bool(self.holds(open_only=True)))
    def void(self, data: st.DataObject, channel: str) -> None:
        hold = self.pick_hold(data)
        # All that is held (Blnk's void), or a part of it (Clearway's partial void).
        amount = data.draw(
            st.one_of(st.none(), st.integers(min_value=1, max_value=max(1, hold.remaining_minor + 50))),
            label="void amount",
        )
        part = hold.remaining_minor if amount is None else amount
        if hold.remaining_minor == 0:
            expectation = Expectation(error=StateConflict, changes_money=False, writes_transaction=False)
        elif part > hold.remaining_minor:
            expectation = Expectation(error=HoldExceeded, changes_money=False, writes_transaction=False)
        elif hold.is_split and part != hold.amount_minor:
            expectation = Expectation(error=InvalidRequest, changes_money=False, writes_transaction=False)
        else:
            expectation = Expectation(status="VOID")
        result = self.step(VoidHold(hold.transaction_id, amount_minor=amount), expectation, channel)
        if result.record is not None:
            assert result.record.amount_minor == part
            self.settle(hold, part, commit=False)

    # ---- refunds -------------------------------------------------------------------------------

    @rule(data=st.data(), channel=st.sampled_from(["pipeline", "batch"]))
    @precondition(lambda self: bool(self.transactions))
    def refund(self, data: st.DataObject, channel: str) -> None:
        target = data.draw(st.sampled_from(sorted(self.transactions.values(), key=lambda t: t.transaction_id)))
        if target.status != "APPLIED":
            expectation = Expectation(error=StateConflict, changes_money=False, writes_transaction=False)
        elif target.refunded:
            expectation = Expectation(error=AlreadyRefunded, changes_money=False, writes_transaction=False)
        elif self.spending_refused(target.currency, target.credits, None if target.destinations_internal else 0):
            expectation = Expectation(error=LedgerError, changes_money=False, writes_transaction=False)
        else:
            expectation = Expectation(status="APPLIED")
        result = self.step(Refund(target.transaction_id), expectation, channel)
        if result.record is None:
            return
        target.refunded = True
        self.post(target.credits, target.debits, inflight=False)
        self.transactions[result.record.transaction_id] = ModelTransaction(
            transaction_id=result.record.transaction_id,
            status="APPLIED",
            currency=target.currency,
            debits=target.credits,
            credits=target.debits,
            destinations_internal=all(self.balances[b].policy is None for b, _ in target.debits),
            amount_minor=result.record.amount_minor,
        )

    # ---- replays and refusals that must change nothing ------------------------------------------

    @rule(data=st.data(), channel=st.sampled_from(["pipeline", "batch"]))
    @precondition(lambda self: bool(self.requests))
    def replay(self, data: st.DataObject, channel: str) -> None:
        request = data.draw(st.sampled_from(self.requests), label="request")
        original = next((t for t in self.transactions.values() if t.request is request), None)
        if original is None:  # refused before anything was written: the retry is refused again
            expectation = Expectation(error=InvalidRequest, changes_money=False, writes_transaction=False)
        else:
            expectation = Expectation(
                status=original.status, replayed=True, changes_money=False, writes_transaction=False
            )
        result = self.step(Transfer(request), expectation, channel)
        if original is not None:
            assert result.record is not None and result.record.transaction_id == original.transaction_id

    @rule(data=st.data(), channel=st.sampled_from(["pipeline", "batch"]))
    @precondition(lambda self: any(t.request is not None for t in self.transactions.values()))
    def reuse_reference(self, data: st.DataObject, channel: str) -> None:
        original = data.draw(
            st.sampled_from([t for t in self.transactions.values() if t.request is not None]), label="original"
        )
        assert original.request is not None
        request = original.request
        # Same reference, different money: a plain transfer of one unit more.
        changed = dataclasses.replace(
            request,
            amount_minor=request.amount_minor + 1,
            source=request.source or WORLD,
            destination=request.destination or WORLD,
            sources=(),
            destinations=(),
        )
        expectation = Expectation(error=ReferenceConflict, changes_money=False, writes_transaction=False)
        self.step(Transfer(changed), expectation, channel)

    @rule(kind=st.sampled_from(["commit", "void", "refund"]), channel=st.sampled_from(["pipeline", "batch"]))
    def unknown_transaction(self, kind: str, channel: str) -> None:
        missing = new_id("txn")
        operations: dict[str, Operation] = {
            "commit": CommitHold(missing),
            "void": VoidHold(missing),
            "refund": Refund(missing),
        }
        operation = operations[kind]
        expectation = Expectation(error=NotFound, changes_money=False, writes_transaction=False)
        self.step(operation, expectation, channel)

    @rule(name=st.sampled_from(["usd-strict-a", "usd-strict-b", "usd-limit"]), inflight=st.booleans())
    def overdraw(self, name: str, inflight: bool) -> None:
        """One minor unit past what the policy allows is always refused, whatever came before."""
        source = self.balances[self.names[name]]
        headroom = source.available + (0 if source.policy == STRICT else source.policy or 0)
        destination = self.names["usd-strict-b" if name == "usd-strict-a" else "usd-strict-a"]
        self.transfer(
            [(source.balance_id, headroom + 1)],
            [(destination, headroom + 1)],
            currency="USD",
            inflight=inflight,
            channel="batch",
        )

    # ---- invariants ----------------------------------------------------------------------------

    @invariant()
    def books_verify(self) -> None:
        if self.balances:
            self.bridge.run(_verify(self.bridge.pool))

    @invariant()
    def database_matches_the_model(self) -> None:
        if not self.balances:
            return
        stored = self.bridge.run(_balance_columns(self.bridge.pool, list(self.balances)))
        for balance_id, model in self.balances.items():
            assert stored[balance_id] == model.columns(), (balance_id, stored[balance_id], model)
            if model.policy is not None:
                floor = 0 if model.policy == STRICT else -model.policy
                assert model.available >= floor, model
        holds = self.holds(open_only=False)
        rows = self.bridge.run(_hold_rows(self.bridge.pool, [hold.transaction_id for hold in holds]))
        for hold in holds:
            assert rows[hold.transaction_id] == (hold.amount_minor, hold.committed_minor, hold.voided_minor), hold


async def test_random_operation_sequences_keep_the_books_in_the_database(ledger_pool: asyncpg.Pool) -> None:
    pipeline = PostingPipeline(SqlPostingUnitOfWork(ledger_pool), workers=2, batch_size_max=50)
    await pipeline.start()
    machine = type(
        "BoundLedgerDatabaseMachine",
        (LedgerDatabaseMachine,),
        {"bridge": Bridge(asyncio.get_running_loop(), ledger_pool, pipeline)},
    )
    try:
        await asyncio.to_thread(
            run_state_machine_as_test,
            machine,
            settings=settings(
                max_examples=20,
                stateful_step_count=30,
                deadline=None,
                # Every step is a database round trip: shrinking would take minutes, so a failure
                # is reported as generated (the printed steps replay it with the printed seed).
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        await pipeline.stop()
