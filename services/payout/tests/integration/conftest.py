"""Payout against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.testing import running_app
from clearway.payout.config import PayoutSettings
from clearway.payout.main import create_app, run_migrations

PAYOUT_TEST_API_KEY = "payout-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def payout_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    url = await make_database("payout")
    # The same entrypoint `python -m clearway.payout.main migrate` and the devstack use.
    await asyncio.to_thread(run_migrations, url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def payout_settings(payout_database_url: str, kafka_bootstrap_servers: str) -> PayoutSettings:
    return PayoutSettings(
        database_url=payout_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=PAYOUT_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


RunningPayout = Callable[[PayoutSettings], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@contextlib.asynccontextmanager
async def _running_payout(settings: PayoutSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(settings), api_key=PAYOUT_TEST_API_KEY, base_url="http://payout") as client:
        yield client


@pytest.fixture
def running_payout() -> RunningPayout:
    """`async with running_payout(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return _running_payout
