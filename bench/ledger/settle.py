"""Each phase starts on a settled ledger, as each of pgledger's phases does (its bench runs
`VACUUM FULL` then `CHECKPOINT` before every phase): the outbox relay has published the previous
phase's events, dead rows are vacuumed and a checkpoint has flushed the dirty pages, so no phase
pays for its predecessor's backlog, bloat or a checkpoint it did not cause.

Plain `VACUUM`, not `VACUUM FULL`: the ledger keeps running between phases (its relay, sweeper
and consumers hold connections), and `FULL` would lock their tables.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from clearway.platform.db import libpq_url

DRAIN_WAIT_S_MAX = 120


async def settle_ledger_database(database_url: str) -> dict[str, float]:
    """Wait for the outbox to drain, then VACUUM (ANALYZE) and CHECKPOINT; returns what it took."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        started = time.perf_counter()
        deadline = started + DRAIN_WAIT_S_MAX
        while time.perf_counter() < deadline:
            unpublished = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if unpublished == 0:
                break
            await asyncio.sleep(0.5)
        drained = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        await connection.execute("CHECKPOINT")
        return {"drain_s": round(drained - started, 2), "vacuum_checkpoint_s": round(time.perf_counter() - drained, 2)}
    finally:
        await connection.close()
