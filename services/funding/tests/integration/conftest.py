"""Funding against real PostgreSQL and the real broker: a migrated database and the app's lifespan."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.testing import RunningApp, app_runner, migrated_database, running_app
from clearway.funding.config import FundingSettings
from clearway.funding.main import create_app, run_migrations
from clearway.ledger.testing import in_process_ledger

FUNDING_TEST_API_KEY = "funding-integration-admin"


@pytest_asyncio.fixture(loop_scope="session")
async def funding_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    return await migrated_database(make_database, "funding", run_migrations)


@pytest_asyncio.fixture(loop_scope="session")
async def funding_settings(funding_database_url: str, kafka_bootstrap_servers: str) -> FundingSettings:
    return FundingSettings(
        database_url=funding_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=FUNDING_TEST_API_KEY,
        log_json=False,
        outbox_poll_interval_ms=100,
    )


@pytest.fixture
def running_funding() -> RunningApp[FundingSettings]:
    """`async with running_funding(settings) as client`: the app with its lifespan (consumers
    included) running, and a client authenticated as admin. Leaving the block stops it."""
    return app_runner(create_app, api_key=FUNDING_TEST_API_KEY, base_url="http://funding")


# --- The ledger in-process, and funding wired to it (flows that move money). -------------------

LEDGER_TEST_API_KEY = "funding-tests-ledger-key"
OPERATOR_KEY = "funding-tests-operator"
APPROVER_KEY = "funding-tests-approver"
OTHER_WORKSPACE_KEY = "funding-tests-other-workspace"


def _api_keys_json() -> str:
    from clearway.platform.auth import hash_api_key

    return json.dumps(
        [
            {"name": "olga-operator", "key_sha256": hash_api_key(OPERATOR_KEY), "roles": ["operator"]},
            {"name": "amir-approver", "key_sha256": hash_api_key(APPROVER_KEY), "roles": ["approver", "operator"]},
            {
                "name": "other-workspace",
                "key_sha256": hash_api_key(OTHER_WORKSPACE_KEY),
                "roles": ["operator", "approver"],
                "workspace_id": "ws_other",
            },
        ]
    )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def ledger_app(
    make_shared_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[FastAPI]:
    """A ledger of the module's own, migrated fresh, running with its lifespan. One per module, not
    per test: starting it costs a group join, and every test works on identities and balances of
    its own, so tests sharing it cannot see each other's money."""
    url = await make_shared_database("fundingledger")
    async with in_process_ledger(url, kafka_bootstrap_servers, api_key=LEDGER_TEST_API_KEY) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def ledger(ledger_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ledger_app),
        base_url="http://ledger",
        headers={"X-API-Key": LEDGER_TEST_API_KEY},
    ) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def flow_settings(funding_database_url: str, kafka_bootstrap_servers: str) -> FundingSettings:
    return FundingSettings(
        database_url=funding_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=FUNDING_TEST_API_KEY,
        api_keys_json=_api_keys_json(),
        ledger_url="http://ledger",
        ledger_api_key=LEDGER_TEST_API_KEY,
        ledger_attempts_max=2,
        log_json=False,
        outbox_poll_interval_ms=100,
        recovery_interval_ms=200,
        public_url="http://funding.test",
    )


class FailingLedgerTransport(httpx.AsyncBaseTransport):
    """The real in-process ledger, except that requests `fails(request)` selects get a 503:
    the ledger going away mid-flow, as a crash or an outage would leave things."""

    def __init__(self, ledger_app: FastAPI, fails: Callable[[httpx.Request], bool]) -> None:
        self._inner = httpx.ASGITransport(app=ledger_app)
        self._fails = fails

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fails(request):
            return httpx.Response(503, json={"code": "UNAVAILABLE"})
        return await self._inner.handle_async_request(request)


RunningFlow = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def running_flow(ledger_app: FastAPI, flow_settings: FundingSettings) -> RunningFlow:
    """`async with running_flow() as client`: funding (lifespan, consumers, recovery) against the
    in-process ledger; `running_flow(fails=...)` makes some ledger calls fail with 503."""

    @contextlib.asynccontextmanager
    async def run(
        fails: Callable[[httpx.Request], bool] | None = None, settings: FundingSettings | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport: httpx.AsyncBaseTransport = (
            FailingLedgerTransport(ledger_app, fails) if fails else httpx.ASGITransport(app=ledger_app)
        )
        app = create_app(settings or flow_settings, ledger_transport=transport)
        async with running_app(app, api_key=FUNDING_TEST_API_KEY, base_url="http://funding") as client:
            yield client

    return run
