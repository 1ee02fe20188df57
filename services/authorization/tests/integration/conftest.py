"""Authorization against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import pytest_asyncio

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.main import create_app, run_migrations
from clearway.devstack.testing import RunningApp, app_runner, migrated_database

AUTHORIZATION_TEST_API_KEY = "authorization-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def authorization_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    return await migrated_database(make_database, "authorization", run_migrations)


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


@pytest.fixture
def running_authorization() -> RunningApp[AuthorizationSettings]:
    """`async with running_authorization(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return app_runner(create_app, api_key=AUTHORIZATION_TEST_API_KEY, base_url="http://authorization")
