"""Ledger test fixtures: a freshly migrated database and the app running against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest_asyncio

from clearway.devstack.testing import running_app
from clearway.ledger.adapters.database import create_pool
from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import create_app, run_migrations

TEST_API_KEY = "ledger-test-admin-key"


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    url = await make_database("ledger")
    # The same entrypoint `python -m clearway.ledger.main migrate` and `make run` use.
    await asyncio.to_thread(run_migrations, url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_pool(ledger_database_url: str) -> AsyncIterator[object]:
    pool = await create_pool(ledger_database_url, size_max=20)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_client(ledger_database_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = LedgerSettings(
        database_url=ledger_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=TEST_API_KEY,
        log_json=False,
        sweeper_interval_ms=100,
    )
    async with running_app(
        create_app(settings), api_key=TEST_API_KEY, base_url="http://ledger", key_header="X-Blnk-Key"
    ) as client:
        yield client
