"""Reconciliation against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.testing import running_app
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.main import create_app, run_migrations

RECONCILIATION_TEST_API_KEY = "reconciliation-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def reconciliation_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    url = await make_database("reconciliation")
    # The same entrypoint `python -m clearway.reconciliation.main migrate` and the devstack use.
    await asyncio.to_thread(run_migrations, url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def reconciliation_settings(
    reconciliation_database_url: str, kafka_bootstrap_servers: str
) -> ReconciliationSettings:
    return ReconciliationSettings(
        database_url=reconciliation_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=RECONCILIATION_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


RunningReconciliation = Callable[[ReconciliationSettings], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@contextlib.asynccontextmanager
async def _running_reconciliation(settings: ReconciliationSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(
        create_app(settings), api_key=RECONCILIATION_TEST_API_KEY, base_url="http://reconciliation"
    ) as client:
        yield client


@pytest.fixture
def running_reconciliation() -> RunningReconciliation:
    """`async with running_reconciliation(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return _running_reconciliation
