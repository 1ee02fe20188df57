"""`OwnerLease`: a claim in the database that dies with the process that holds it.

A process picks a random owner id at start and holds a session-level PostgreSQL advisory lock on
it over one dedicated connection. Rows the process claims (an idempotency key in progress) carry
that owner id. When the process dies, however abruptly, PostgreSQL ends its session and the lock
is gone, so another process can tell "owner still working" from "owner dead" at once, instead of
waiting out a timeout (issue 12, defect 4).

The two-int form of the advisory lock lives in a key space separate from the single-bigint locks
that migrations and the outbox relay take, and `OWNER_LOCK_NAMESPACE` keeps it apart from any
other two-int user.

Bounds: one connection per process; a lost connection is re-established every
`reconnect_interval_ms` until `stop()`. While the lease is lost (the database restarted), rows the
process claimed look abandoned; the routes behind them pass deterministic references downstream,
so a takeover re-runs them harmlessly, which is the same guarantee the timeout gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import asyncpg
from sqlalchemy import text
from sqlalchemy.sql.elements import TextClause

from clearway.platform.db import libpq_url

logger = logging.getLogger("clearway.platform.owner_lease")

# "CLWY" as an int4: the namespace (first key) of every owner lock.
OWNER_LOCK_NAMESPACE = 0x434C5759
OWNER_ID_MAX = 2**31 - 1
RECONNECT_INTERVAL_MS = 1_000
CONNECT_TIMEOUT_S = 5.0


def owner_is_gone_sql(owner_id_column: str) -> TextClause:
    """SQL that is true when no live session holds the owner lock named by `owner_id_column`.

    `owner_id_column` is a fixed, qualified column name from platform code, never user input.
    """
    assert owner_id_column.replace("_", "").replace(".", "").isalnum(), "a column name, not an expression"
    # A checked column name and a constant: no input reaches this SQL.
    return text(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks held"  # noqa: S608
        " WHERE held.locktype = 'advisory' AND held.granted AND held.objsubid = 2"
        " AND held.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
        f" AND held.classid = {OWNER_LOCK_NAMESPACE}::oid AND held.objid = {owner_id_column}::oid)"
    )


class OwnerLease:
    """Holds this process's owner lock while the process runs."""

    def __init__(self, database_url: str, *, reconnect_interval_ms: int = RECONNECT_INTERVAL_MS) -> None:
        assert 1 <= reconnect_interval_ms <= 60_000
        self.owner_id = secrets.randbelow(OWNER_ID_MAX) + 1
        self._dsn = libpq_url(database_url)
        self._reconnect_interval_s = reconnect_interval_ms / 1000
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def start(self) -> None:
        """Try once now (so claims made right after start are protected), then keep it held."""
        await self._acquire()
        self._task = asyncio.create_task(self._keep(), name="owner-lease")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()  # ends the session: the lock goes with it
            self._connection = None

    async def _acquire(self) -> None:
        try:
            connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            logger.warning("owner lease not held yet: %s", type(error).__name__)
            return
        try:
            await connection.execute("SELECT pg_advisory_lock($1, $2)", OWNER_LOCK_NAMESPACE, self.owner_id)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        logger.info("owner lease held", extra={"owner_id": self.owner_id})

    async def _keep(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(self._reconnect_interval_s)
            if self.held:
                assert self._connection is not None
                try:
                    await self._connection.fetchval("SELECT 1")
                    continue
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    logger.warning("owner lease lost; re-acquiring")
                    with contextlib.suppress(Exception):
                        await self._connection.close()
                    self._connection = None
            await self._acquire()
