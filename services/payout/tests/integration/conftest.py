"""Payout against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import pytest_asyncio

from clearway.devstack.testing import RunningApp, app_runner, migrated_database
from clearway.payout.config import PayoutSettings
from clearway.payout.main import create_app, run_migrations

PAYOUT_TEST_API_KEY = "payout-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def payout_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    return await migrated_database(make_database, "payout", run_migrations)


@pytest_asyncio.fixture(loop_scope="session")
async def payout_settings(payout_database_url: str, kafka_bootstrap_servers: str) -> PayoutSettings:
    return PayoutSettings(
        database_url=payout_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=PAYOUT_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


@pytest.fixture
def running_payout() -> RunningApp[PayoutSettings]:
    """`async with running_payout(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return app_runner(create_app, api_key=PAYOUT_TEST_API_KEY, base_url="http://payout")
