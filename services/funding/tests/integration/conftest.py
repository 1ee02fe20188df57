"""Funding against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from clearway.funding.config import FundingSettings
from clearway.funding.main import create_app, run_migrations

FUNDING_TEST_API_KEY = "funding-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def funding_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    url = await make_database("funding")
    # The same entrypoint `python -m clearway.funding.main migrate` and the devstack use.
    await asyncio.to_thread(run_migrations, url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def funding_settings(funding_database_url: str, kafka_bootstrap_servers: str) -> FundingSettings:
    return FundingSettings(
        database_url=funding_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=FUNDING_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


RunningFunding = Callable[[FundingSettings], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@contextlib.asynccontextmanager
async def _running_funding(settings: FundingSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://funding", headers={"X-API-Key": FUNDING_TEST_API_KEY}
        ) as client:
            yield client


@pytest.fixture
def running_funding() -> RunningFunding:
    """`async with running_funding(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return _running_funding
