"""The ledger's connection pool and unit of work.

The ledger talks to PostgreSQL through asyncpg directly: its hot path needs array binds and
COPY, which an ORM session would hide. The unit of work keeps the platform's rule: one
transaction, and only `commit()` commits.
"""

from __future__ import annotations

from types import TracebackType

import asyncpg
import orjson

from clearway.platform.db import libpq_url


async def _init_connection(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open transaction: nothing.

    asyncpg's default reset sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release, a round trip each group-commit batch waited for before its callers got their answers. The
    ledger's pool never takes session advisory locks, opens cursors outside a transaction, listens or
    sets session settings (the outbox relay listens on its own connection), so that reset undid nothing.
    """


async def create_pool(database_url: str, *, size_max: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        libpq_url(database_url),
        min_size=1,
        max_size=size_max,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
    )
    assert pool is not None
    return pool


class LedgerUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._connection: asyncpg.Connection | None = None
        self._transaction: asyncpg.transaction.Transaction | None = None
        self.committed = False

    @property
    def connection(self) -> asyncpg.Connection:
        assert self._connection is not None, "unit of work used outside `async with`"
        return self._connection

    async def __aenter__(self) -> LedgerUnitOfWork:
        self._connection = await self._pool.acquire()
        self._transaction = self._connection.transaction()
        await self._transaction.start()
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None and self._transaction is not None
        try:
            if not self.committed:
                await self._transaction.rollback()
        finally:
            await self._pool.release(self._connection)
            self._connection = None
            self._transaction = None

    async def commit(self) -> None:
        assert self._transaction is not None
        await self._transaction.commit()
        self.committed = True
