"""Authorization against real PostgreSQL, the real broker and an in-process ledger of its own."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.main import create_app, run_migrations
from clearway.authorization.service.context import AuthorizationContext
from clearway.devstack.testing import RunningApp, app_runner, migrated_database, running_app
from clearway.ledger.testing import in_process_ledger
from clearway.platform.auth import hash_api_key

AUTHORIZATION_TEST_API_KEY = "authorization-integration-admin"
LEDGER_TEST_API_KEY = "authorization-tests-ledger-key"
PROCESSOR_KEY = "authorization-tests-processor"
OPERATOR_KEY = "authorization-tests-operator"
READER_KEY = "authorization-tests-reader"


def _api_keys_json() -> str:
    return json.dumps(
        [
            {"name": "pat-processor", "key_sha256": hash_api_key(PROCESSOR_KEY), "roles": ["processor"]},
            {"name": "olga-operator", "key_sha256": hash_api_key(OPERATOR_KEY), "roles": ["operator"]},
            {"name": "rita-reader", "key_sha256": hash_api_key(READER_KEY), "roles": ["read_only"]},
        ]
    )


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
        api_keys_json=_api_keys_json(),
        ledger_url="http://ledger",
        ledger_api_key=LEDGER_TEST_API_KEY,
        ledger_attempts_max=2,
        log_json=False,
        outbox_poll_interval_ms=100,
        recovery_interval_ms=200,
        recovery_grace_ms=60_000,  # the crash test runs the pass itself, with its own grace
        expiry_enabled=False,  # the tests run the expiry job for their own business dates
        billing_enabled=False,  # and the billing jobs
    )


@pytest.fixture
def running_authorization() -> RunningApp[AuthorizationSettings]:
    """`async with running_authorization(settings) as client`: the app (no ledger calls) and an admin client."""
    return app_runner(create_app, api_key=AUTHORIZATION_TEST_API_KEY, base_url="http://authorization")


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_app(
    make_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[FastAPI]:
    """A ledger of the tests' own, migrated fresh, running with its lifespan."""
    url = await make_database("authorizationledger")
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


@dataclass
class AuthorizationHarness:
    admin: httpx.AsyncClient
    app: FastAPI

    @property
    def context(self) -> AuthorizationContext:
        context = self.app.state.authorization_context
        assert isinstance(context, AuthorizationContext)
        return context

    def client(self, api_key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://authorization", headers={"X-API-Key": api_key}
        )


RunningFlow = Callable[..., contextlib.AbstractAsyncContextManager[AuthorizationHarness]]


@pytest.fixture
def running_flow(ledger_app: FastAPI, authorization_settings: AuthorizationSettings) -> RunningFlow:
    """`async with running_flow() as service`: authorization (lifespan, consumers, recovery) against
    the in-process ledger."""

    @contextlib.asynccontextmanager
    async def run(*, settings: AuthorizationSettings | None = None) -> AsyncIterator[AuthorizationHarness]:
        app = create_app(settings or authorization_settings, ledger_transport=httpx.ASGITransport(app=ledger_app))
        async with running_app(app, api_key=AUTHORIZATION_TEST_API_KEY, base_url="http://authorization") as admin:
            yield AuthorizationHarness(admin=admin, app=app)

    return run
