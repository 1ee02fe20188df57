"""Reconciliation against real PostgreSQL, the real broker and an in-process ledger of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.testing import RunningApp, app_runner, migrated_database, running_app
from clearway.ledger.testing import in_process_ledger
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.main import create_app, run_migrations

RECONCILIATION_TEST_API_KEY = "reconciliation-integration-admin"
LEDGER_TEST_API_KEY = "reconciliation-tests-ledger-key"


@pytest_asyncio.fixture(loop_scope="session")
async def reconciliation_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    return await migrated_database(make_database, "reconciliation", run_migrations)


@pytest_asyncio.fixture(loop_scope="session")
async def reconciliation_settings(
    reconciliation_database_url: str, kafka_bootstrap_servers: str
) -> ReconciliationSettings:
    return ReconciliationSettings(
        database_url=reconciliation_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=RECONCILIATION_TEST_API_KEY,
        ledger_url="http://ledger",
        ledger_api_key=LEDGER_TEST_API_KEY,
        ledger_attempts_max=2,
        log_json=False,
        outbox_poll_interval_ms=100,
        recovery_interval_ms=200,
        checks_enabled=False,
    )


@pytest.fixture
def running_reconciliation() -> RunningApp[ReconciliationSettings]:
    """`async with running_reconciliation(settings) as client`: the app (no ledger calls) and an admin client."""
    return app_runner(create_app, api_key=RECONCILIATION_TEST_API_KEY, base_url="http://reconciliation")


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_app(
    make_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[FastAPI]:
    """A ledger of the tests' own, migrated fresh, running with its lifespan."""
    url = await make_database("reconledger")
    async with in_process_ledger(url, kafka_bootstrap_servers, api_key=LEDGER_TEST_API_KEY) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def ledger(ledger_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ledger_app),
        base_url="http://ledger",
        headers={"X-API-Key": LEDGER_TEST_API_KEY},
    ) as client:
        yield client


RunningFlow = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def running_flow(ledger_app: FastAPI, reconciliation_settings: ReconciliationSettings) -> RunningFlow:
    """`async with running_flow() as client`: reconciliation (lifespan, consumers, recovery) against
    the in-process ledger, and an admin client."""

    @contextlib.asynccontextmanager
    async def run(settings: ReconciliationSettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings or reconciliation_settings, ledger_transport=httpx.ASGITransport(app=ledger_app))
        async with running_app(app, api_key=RECONCILIATION_TEST_API_KEY, base_url="http://reconciliation") as client:
            yield client

    return run
