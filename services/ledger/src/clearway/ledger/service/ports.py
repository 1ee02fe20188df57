"""The posting step's port at the store boundary: what group commit reads, locks and writes.

Step 3 of the posting path (`service/posting/`) talks to PostgreSQL only through these Protocols;
step 4 implements them (`adapters/posting_store.py`, wired in `main.py`). The unit tests run the
same posting code on an in-memory store (`tests/unit/in_memory_posting_store.py`).

A batch runs in one store transaction: `async with unit_of_work.begin() as session`, work on
`session.store`, then `await session.commit()`; leaving the block without committing rolls back.
The store locks in one fixed order (holds by id, then balances by id), which is what keeps
concurrent batches free of deadlocks: an implementation must keep that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import EntryLine, Hold
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.domain.transactions import TransactionRecord

# ---- what schema entries read and write (the shapes the store speaks in) ----------------------


@dataclass(frozen=True, slots=True)
class AccountKey:
    ledger_id: str
    path: str
    currency: str


@dataclass(frozen=True, slots=True)
class AccountRow:
    balance_id: str
    account_type: str
    is_linked: bool
    is_clearing: bool


@dataclass(frozen=True, slots=True)
class NewAccount:
    key: AccountKey
    balance_id: str
    precision: int
    account_type: str
    is_linked: bool
    is_clearing: bool


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One `ledger_entries` row (insert shape)."""

    entry_id: str
    ledger_id: str
    ik: str
    entry_type: str
    schema_key: str
    schema_version: int
    currency: str
    amount_minor: int
    parameters: dict[str, str]
    lines: list[dict[str, Any]]
    description: str
    request_hash: str
    transaction_id: str
    external_transaction_id: str | None
    created_at: datetime
    updated_at: datetime


class SchemaEntryStore(Protocol):
    """What `EntryPoster` (schema entries inside a batch) reads and writes: accounts and entry rows."""

    async def ensure_accounts(self, accounts: Sequence[NewAccount]) -> tuple[dict[AccountKey, AccountRow], set[str]]:
        """Get-or-create the accounts' balances; answers every account and the balance ids created now."""
        ...

    async def find_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, AccountRow]: ...

    async def reconciled_by(self, ledger_id: str, external_ids: Sequence[str]) -> dict[str, str]:
        """External transaction id -> the ik of the entry that reconciled it, for those already reconciled."""
        ...

    async def insert_entries(self, entries: Sequence[EntryRow]) -> None: ...

    async def mark_reversed(self, reversals: Sequence[tuple[str, str, str]], now: datetime) -> None:
        """(ledger_id, ik, reversal transaction id) per reversed entry."""
        ...

    async def delete_unused_accounts(self, balance_ids: Sequence[str]) -> None: ...


# ---- the posting store ---------------------------------------------------------------------------


class PostingStore(Protocol):
    """Exactly what one group-commit batch calls on the store, in the order a batch calls it."""

    @property
    def entries(self) -> SchemaEntryStore:
        """The schema-entry part of the store, on the same transaction."""
        ...

    # Loading (no locks), then locking in the fixed order: holds by id, then balances by id.
    async def transactions_by_id(self, transaction_ids: Sequence[str]) -> dict[str, TransactionRecord]: ...

    async def transactions_by_reference(self, references: Sequence[str]) -> dict[str, TransactionRecord]: ...

    async def lock_holds(self, transaction_ids: Iterable[str]) -> dict[str, tuple[Hold, datetime | None]]: ...

    async def ensure_internal_balances(
        self, wanted: Sequence[tuple[str, str]], precisions: dict[str, int], new_ids: Sequence[str]
    ) -> dict[tuple[str, str], str]:
        """Get-or-create `@Name` balances, keyed (indicator, currency); `new_ids` name the ones created."""
        ...

    async def lock_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner]]: ...

    async def balance_owners(self, balance_ids: Iterable[str]) -> dict[str, BalanceOwner]:
        """Owners without locks (a workspace's replay names balances the batch did not lock)."""
        ...

    # Writing, once every operation of the batch has run.
    async def write_postings(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
    ) -> list[Monitor]:
        """Insert transactions, entry lines and outbox rows, save each touched balance; answer the
        monitors on the touched balances (their states as last committed)."""
        ...

    async def insert_holds(self, holds: Sequence[tuple[Hold, datetime | None]]) -> None: ...

    async def save_holds(self, holds: Sequence[Hold]) -> None: ...

    async def set_monitor_states(self, states: Sequence[tuple[str, bool]]) -> None: ...

    async def insert_outbox(self, rows: Sequence[tuple[Any, ...]]) -> None: ...


class PostingSession(Protocol):
    """One store transaction: its store, and the only way to make its writes stick."""

    @property
    def store(self) -> PostingStore: ...

    async def commit(self) -> None: ...


class PostingUnitOfWork(Protocol):
    """Opens store transactions for the posting pipeline (one per batch attempt)."""

    @property
    def retryable_errors(self) -> tuple[type[Exception], ...]:
        """Errors that mean the batch lost a race to a concurrent one and may simply run again."""
        ...

    def begin(self) -> AbstractAsyncContextManager[PostingSession]:
        """A new transaction; leaving the block without `commit()` rolls it back."""
        ...


class FastLaneStore(Protocol):
    """The posting fast lane's store (`service/posting/fast_lane.py`): no transaction of its own.

    It reads balances without locks, and writes a batch in one statement that commits by itself,
    only while every balance the batch posted on is at the version the batch read (`read_versions`,
    touched or only read). When one moved meanwhile, or has a monitor, the write raises one of
    `conflict_errors` and nothing of it stays; a reference that already exists raises one of them
    too (its unique index).
    """

    @property
    def conflict_errors(self) -> tuple[type[Exception], ...]: ...

    async def read_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner], set[str]]:
        """Balances that exist, their owners, and the ids of those with monitors."""
        ...

    async def write_postings_at_versions(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
        read_versions: dict[str, int],
    ) -> None: ...
