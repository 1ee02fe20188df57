"""Step 4 of the posting path: the SQL implementation of the posting port (`service/ports.py`).

`SqlPostingUnitOfWork(pool)` opens one `LedgerUnitOfWork` per batch attempt and hands the
pipeline a `SqlPostingStore` on its connection: `LedgerRepository` (transactions, balances and
entries, holds, monitor states, the outbox) plus the schema-entry SQL (`SchemaRepository`) as
`store.entries`, all in the same transaction. `SqlFastLaneStore(pool)` is the fast lane's store:
each call on a connection of its own, outside any transaction. `main.py` wires them; no SQL lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from clearway.ledger.adapters.database import LedgerUnitOfWork
from clearway.ledger.adapters.repository import LedgerRepository
from clearway.ledger.adapters.schema_repository import SchemaRepository
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.posting import EntryLine
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.domain.transactions import TransactionRecord

# A batch that loses a race (the same new reference or internal balance inserted by a concurrent
# batch, or a deadlock on that unique index) runs again and then sees the winner's rows.
LOST_RACE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.UniqueViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


class SqlPostingStore(LedgerRepository):
    """The posting store on one connection; `entries` is the schema-entry part of it."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.entries = SchemaRepository(connection)


class SqlPostingSession(LedgerUnitOfWork):
    """One batch attempt: a `LedgerUnitOfWork` (rolled back unless committed) with its store."""

    _store: SqlPostingStore | None = None

    @property
    def store(self) -> SqlPostingStore:
        assert self._store is not None, "posting session used outside `async with`"
        return self._store

    async def __aenter__(self) -> SqlPostingSession:
        await super().__aenter__()
        self._store = SqlPostingStore(self.connection)
        return self


class SqlPostingUnitOfWork:
    """The pipeline's source of store transactions, on the ledger's pool."""

    retryable_errors = LOST_RACE_ERRORS

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    def begin(self) -> SqlPostingSession:
        return SqlPostingSession(self.pool)


class SqlFastLaneStore:
    """The fast lane's store on the ledger's pool: every call is its own statement and transaction."""

    conflict_errors = LOST_RACE_ERRORS

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def read_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner], set[str]]:
        async with self.pool.acquire() as connection:
            return await LedgerRepository(connection).read_owned_balances(balance_ids)

    async def write_postings_at_versions(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
        read_versions: dict[str, int],
    ) -> None:
        async with self.pool.acquire() as connection:
            await LedgerRepository(connection).write_postings_at_versions(
                records, lines, created_at, touched, outbox, read_versions
            )
