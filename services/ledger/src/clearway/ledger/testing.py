"""The ledger as other services' integration tests run it: in-process, on a database of their own,
migrated fresh, with its lifespan running (callers reach it through `httpx.ASGITransport(app=...)`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import MIGRATIONS_DIR, create_app
from clearway.platform.migrations import upgrade_database_async


@contextlib.asynccontextmanager
async def in_process_ledger(database_url: str, kafka_bootstrap_servers: str, *, api_key: str) -> AsyncIterator[FastAPI]:
    await upgrade_database_async(MIGRATIONS_DIR, database_url)
    settings = LedgerSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=api_key,
        log_json=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app
