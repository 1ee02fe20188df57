"""An in-memory fake of the posting port (`clearway.ledger.service.ports`): a fake, not a mock.

Dict-backed tables with the SQL store's semantics where the posting step can tell: a session
works on a private copy of the tables, `commit()` publishes it and leaving without commit
throws it away (snapshot semantics); sessions run one at a time (the SQL store's row locks,
coarsened to the whole store); internal `@Name` balances are created on first use in the
platform's general ledger; a reference is unique (a duplicate raises `UniqueViolation`, which
the pipeline treats as a lost race, like the SQL store's unique index); holds, monitors, schema
accounts, entry rows and outbox rows are kept so tests can read them back.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import EntryLine, Hold
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.ports import AccountKey, AccountRow, EntryRow, NewAccount


class UniqueViolation(Exception):
    """A second row with the same unique key (a transaction reference)."""


@dataclass
class Tables:
    transactions: dict[str, TransactionRecord] = field(default_factory=dict)  # by id
    references: dict[str, str] = field(default_factory=dict)  # reference -> transaction id
    balances: dict[str, BalanceState] = field(default_factory=dict)
    owners: dict[str, BalanceOwner] = field(default_factory=dict)
    indicators: dict[tuple[str, str], str] = field(default_factory=dict)  # (indicator, currency) -> balance id
    lines: list[tuple[EntryLine, datetime]] = field(default_factory=list)
    holds: dict[str, tuple[Hold, datetime | None]] = field(default_factory=dict)
    monitors: dict[str, Monitor] = field(default_factory=dict)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: dict[AccountKey, AccountRow] = field(default_factory=dict)
    entries: dict[tuple[str, str], EntryRow] = field(default_factory=dict)  # (ledger_id, ik) -> row
    reversed_by: dict[tuple[str, str], str] = field(default_factory=dict)  # (ledger_id, ik) -> transaction id


def _fresh(state: BalanceState) -> BalanceState:
    """A balance as a `SELECT ... FOR UPDATE` answers it: a new object, not yet touched."""
    copied = state.copy()
    copied.touched = False
    return copied


class InMemorySchemaEntryStore:
    """`SchemaEntryStore` on a session's tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def ensure_accounts(self, accounts: Sequence[NewAccount]) -> tuple[dict[AccountKey, AccountRow], set[str]]:
        created: set[str] = set()
        for account in accounts:
            if account.key in self.tables.accounts:
                continue
            self.tables.accounts[account.key] = AccountRow(
                account.balance_id, account.account_type, account.is_linked, account.is_clearing
            )
            self.tables.balances[account.balance_id] = BalanceState(account.balance_id, account.key.currency)
            self.tables.owners[account.balance_id] = BalanceOwner(None, is_internal=False)
            created.add(account.balance_id)
        return await self.find_accounts([account.key for account in accounts]), created

    async def find_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, AccountRow]:
        return {key: self.tables.accounts[key] for key in keys if key in self.tables.accounts}

    async def reconciled_by(self, ledger_id: str, external_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(external_ids)
        return {
            row.external_transaction_id: row.ik
            for (row_ledger, _), row in self.tables.entries.items()
            if row_ledger == ledger_id and row.external_transaction_id in wanted
        }

    async def insert_entries(self, entries: Sequence[EntryRow]) -> None:
        for row in entries:
            if (row.ledger_id, row.ik) in self.tables.entries:
                raise UniqueViolation(f"entry {row.ledger_id}/{row.ik}")
            self.tables.entries[(row.ledger_id, row.ik)] = row

    async def mark_reversed(self, reversals: Sequence[tuple[str, str, str]], now: datetime) -> None:
        for ledger_id, ik, transaction_id in reversals:
            self.tables.reversed_by.setdefault((ledger_id, ik), transaction_id)

    async def delete_unused_accounts(self, balance_ids: Sequence[str]) -> None:
        for balance_id in balance_ids:
            state = self.tables.balances[balance_id]
            if (
                state.credit_balance
                or state.debit_balance
                or state.inflight_credit_balance
                or state.inflight_debit_balance
            ):
                continue
            del self.tables.balances[balance_id]
            del self.tables.owners[balance_id]
            for key in [key for key, row in self.tables.accounts.items() if row.balance_id == balance_id]:
                del self.tables.accounts[key]


class InMemoryPostingStore:
    """`PostingStore` on a session's tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.entries = InMemorySchemaEntryStore(tables)

    async def transactions_by_id(self, transaction_ids: Sequence[str]) -> dict[str, TransactionRecord]:
        return {tid: self.tables.transactions[tid] for tid in transaction_ids if tid in self.tables.transactions}

    async def transactions_by_reference(self, references: Sequence[str]) -> dict[str, TransactionRecord]:
        found = {reference: self.tables.references.get(reference) for reference in references}
        return {reference: self.tables.transactions[tid] for reference, tid in found.items() if tid is not None}

    async def lock_holds(self, transaction_ids: Iterable[str]) -> dict[str, tuple[Hold, datetime | None]]:
        return {
            tid: (replace(self.tables.holds[tid][0]), self.tables.holds[tid][1])
            for tid in sorted(set(transaction_ids))
            if tid in self.tables.holds
        }

    async def ensure_internal_balances(
        self, wanted: Sequence[tuple[str, str]], precisions: dict[str, int], new_ids: Sequence[str]
    ) -> dict[tuple[str, str], str]:
        ordered = sorted(set(wanted))
        for (indicator, currency), new_id in zip(ordered, new_ids, strict=False):
            if (indicator, currency) not in self.tables.indicators:
                self.tables.indicators[(indicator, currency)] = new_id
                self.tables.balances[new_id] = BalanceState(new_id, currency)
                self.tables.owners[new_id] = BalanceOwner(None, is_internal=True)
        return {key: self.tables.indicators[key] for key in ordered}

    async def lock_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner]]:
        found = [balance_id for balance_id in sorted(set(balance_ids)) if balance_id in self.tables.balances]
        return (
            {balance_id: _fresh(self.tables.balances[balance_id]) for balance_id in found},
            {balance_id: self.tables.owners[balance_id] for balance_id in found},
        )

    async def balance_owners(self, balance_ids: Iterable[str]) -> dict[str, BalanceOwner]:
        return {
            balance_id: self.tables.owners[balance_id] for balance_id in balance_ids if balance_id in self.tables.owners
        }

    async def write_postings(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
    ) -> list[Monitor]:
        for record in records:
            if record.reference in self.tables.references:
                raise UniqueViolation(f"reference {record.reference!r}")
            self.tables.references[record.reference] = record.transaction_id
            self.tables.transactions[record.transaction_id] = record
        self.tables.lines.extend(lines)
        for state in touched:
            saved = _fresh(state)
            saved.version = self.tables.balances[state.balance_id].version + 1
            self.tables.balances[state.balance_id] = saved
        self.tables.outbox.extend(outbox)
        touched_ids = {state.balance_id for state in touched}
        return [monitor for monitor in self.tables.monitors.values() if monitor.balance_id in touched_ids]

    async def insert_holds(self, holds: Sequence[tuple[Hold, datetime | None]]) -> None:
        for hold, expires_at in holds:
            self.tables.holds[hold.transaction_id] = (replace(hold), expires_at)

    async def save_holds(self, holds: Sequence[Hold]) -> None:
        for hold in holds:
            _, expires_at = self.tables.holds[hold.transaction_id]
            self.tables.holds[hold.transaction_id] = (replace(hold), expires_at)

    async def set_monitor_states(self, states: Sequence[tuple[str, bool]]) -> None:
        for monitor_id, is_triggered in states:
            self.tables.monitors[monitor_id] = replace(self.tables.monitors[monitor_id], is_triggered=is_triggered)

    async def insert_outbox(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.tables.outbox.extend(rows)


class InMemoryPostingSession:
    def __init__(self, owner: InMemoryPostingUnitOfWork) -> None:
        self._owner = owner
        self.store = InMemoryPostingStore(copy.deepcopy(owner.tables))
        self.committed = False

    async def commit(self) -> None:
        assert not self.committed, "a session commits once"
        self._owner.tables = self.store.tables
        self._owner.commits += 1
        self.committed = True


class InMemoryPostingUnitOfWork:
    """`PostingUnitOfWork` over one set of committed tables; `tables` is what a reader would see."""

    retryable_errors: tuple[type[Exception], ...] = (UniqueViolation,)

    def __init__(self) -> None:
        self.tables = Tables()
        self.commits = 0
        self.rollbacks = 0
        self._lock = asyncio.Lock()
        # Cleared, it keeps new sessions from starting (a test's slow round trip), until set again.
        self.begins_open = asyncio.Event()
        self.begins_open.set()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[InMemoryPostingSession]:
        await self.begins_open.wait()
        async with self._lock:
            session = InMemoryPostingSession(self)
            try:
                yield session
            finally:
                if not session.committed:
                    self.rollbacks += 1

    # ---- set-up and read-back for tests (committed state only) ---------------------------------

    def open_balance(self, balance_id: str, currency: str = "USD", *, workspace_id: str | None = None) -> None:
        assert balance_id not in self.tables.balances
        self.tables.balances[balance_id] = BalanceState(balance_id, currency)
        self.tables.owners[balance_id] = BalanceOwner(workspace_id, is_internal=False)

    def add_monitor(self, monitor: Monitor) -> None:
        self.tables.monitors[monitor.monitor_id] = monitor

    def balance(self, balance_id: str) -> BalanceState:
        return self.tables.balances[balance_id]

    def internal_balance(self, indicator: str, currency: str = "USD") -> BalanceState:
        return self.tables.balances[self.tables.indicators[(indicator, currency)]]

    def by_reference(self, reference: str) -> TransactionRecord:
        return self.tables.transactions[self.tables.references[reference]]

    def outbox_topics(self) -> list[str]:
        return [row[1] for row in self.tables.outbox]


class BalanceMoved(Exception):
    """A fast-lane write found a balance at another version than it read, or with a monitor."""


class InMemoryFastLaneStore:
    """`FastLaneStore` on an `InMemoryPostingUnitOfWork`'s committed tables.

    A write takes the unit of work's lock (a session's row locks, coarsened), checks every version it
    was given and applies all of itself or nothing. `hold_writes` keeps writes waiting until
    `release_writes()`, so a test can post a batch while the one before it is still being written;
    `write_order` records the first reference of each write as it reaches the store.
    """

    conflict_errors: tuple[type[Exception], ...] = (BalanceMoved, UniqueViolation)

    def __init__(self, owner: InMemoryPostingUnitOfWork) -> None:
        self._owner = owner
        self.reads = 0
        self.write_order: list[str] = []
        self._gate = asyncio.Event()
        self._gate.set()

    def hold_writes(self) -> None:
        self._gate.clear()

    def release_writes(self) -> None:
        self._gate.set()

    async def read_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner], set[str]]:
        self.reads += 1
        await asyncio.sleep(0)  # a round trip: other tasks run meanwhile
        tables = self._owner.tables
        found = [balance_id for balance_id in balance_ids if balance_id in tables.balances]
        monitored = {monitor.balance_id for monitor in tables.monitors.values()}
        return (
            {balance_id: _fresh(tables.balances[balance_id]) for balance_id in found},
            {balance_id: tables.owners[balance_id] for balance_id in found},
            {balance_id for balance_id in found if balance_id in monitored},
        )

    async def write_postings_at_versions(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
        read_versions: dict[str, int],
    ) -> None:
        await self._gate.wait()
        async with self._owner._lock:
            self.write_order.append(records[0].reference if records else "")
            tables = self._owner.tables
            for balance_id, version in read_versions.items():
                saved = tables.balances.get(balance_id)
                if saved is None or saved.version != version:
                    raise BalanceMoved(balance_id)
            if any(monitor.balance_id in read_versions for monitor in tables.monitors.values()):
                raise BalanceMoved("monitored")
            if any(record.reference in tables.references for record in records):
                raise UniqueViolation("reference")
            await InMemoryPostingStore(tables).write_postings(records, lines, created_at, touched, outbox)
