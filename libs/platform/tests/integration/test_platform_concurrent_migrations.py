"""Replicas migrating one database at the same time (separate processes, as in Kubernetes): one
applies the migrations, the others wait on the lock and find nothing left to do."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

import asyncpg

from clearway.platform.db import libpq_url

REPLICAS = 3


async def test_concurrent_migrate_commands_all_succeed(make_database: Callable[[str], Awaitable[str]]) -> None:
    url = await make_database("migrate")
    env = {**os.environ, "CLEARWAY_LEDGER_DATABASE_URL": url}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clearway.ledger.main",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(REPLICAS)
    ]
    outcomes = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0] * REPLICAS, [err[-2000:] for _, err in outcomes]
    connection = await asyncpg.connect(libpq_url(url))
    try:
        versions = await connection.fetchval("SELECT count(*) FROM alembic_version")
        general = await connection.fetchval("SELECT count(*) FROM ledgers WHERE ledger_id = 'general_ledger_id'")
    finally:
        await connection.close()
    assert versions == 1 and general == 1
