"""Authorization against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.main import create_app, run_migrations
from clearway.devstack.testing import running_app

AUTHORIZATION_TEST_API_KEY = "authorization-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def authorization_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    url = await make_database("authorization")
    # The same entrypoint `python -m clearway.authorization.main migrate` and the devstack use.
    await asyncio.to_thread(run_migrations, url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def authorization_settings(
    authorization_database_url: str, kafka_bootstrap_servers: str
) -> AuthorizationSettings:
    return AuthorizationSettings(
        database_url=authorization_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=AUTHORIZATION_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


RunningAuthorization = Callable[[AuthorizationSettings], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@contextlib.asynccontextmanager
async def _running_authorization(settings: AuthorizationSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(
        create_app(settings), api_key=AUTHORIZATION_TEST_API_KEY, base_url="http://authorization"
    ) as client:
        yield client


@pytest.fixture
def running_authorization() -> RunningAuthorization:
    """`async with running_authorization(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return _running_authorization
