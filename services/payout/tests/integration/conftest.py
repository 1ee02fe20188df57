"""Payout against real PostgreSQL, the real broker and an in-process ledger of its own; the
sandbox rail is the test's, so it can steer outcomes and deliver callbacks when it chooses."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.testing import RunningApp, app_runner, migrated_database, running_app
from clearway.ledger.testing import in_process_ledger
from clearway.payout.config import PayoutSettings
from clearway.payout.main import create_app, run_migrations
from clearway.platform.auth import hash_api_key
from clearway.platform.user_tokens import issue_user_token
from clearway.providers.mobile_money import SandboxOutcome, SandboxProvider, Scenario

PAYOUT_TEST_API_KEY = "payout-integration-admin"
LEDGER_TEST_API_KEY = "payout-tests-ledger-key"
OPERATOR_KEY = "payout-tests-operator"
APPROVER_KEY = "payout-tests-approver"
READER_KEY = "payout-tests-reader"
USER_TOKEN_SECRET = "payout-tests-user-token-secret-0123456789abcdef"
CALLBACK_TOKEN = "payout-tests-callback-token"
ISSUER = "clearway"
AUDIENCE = "clearway-wallet"


def user_token(identity_id: str) -> str:
    return issue_user_token(identity_id, secret=USER_TOKEN_SECRET, issuer=ISSUER, audience=AUDIENCE)


def _api_keys_json() -> str:
    return json.dumps(
        [
            {"name": "olga-operator", "key_sha256": hash_api_key(OPERATOR_KEY), "roles": ["operator"]},
            {"name": "amir-approver", "key_sha256": hash_api_key(APPROVER_KEY), "roles": ["approver"]},
            {"name": "rita-reader", "key_sha256": hash_api_key(READER_KEY), "roles": ["read_only"]},
        ]
    )


@pytest_asyncio.fixture(loop_scope="session")
async def payout_database_url(make_database: Callable[[str], Awaitable[str]]) -> str:
    return await migrated_database(make_database, "payout", run_migrations)


@pytest_asyncio.fixture(loop_scope="session")
async def payout_settings(payout_database_url: str, kafka_bootstrap_servers: str) -> PayoutSettings:
    return PayoutSettings(
        database_url=payout_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=PAYOUT_TEST_API_KEY,
        api_keys_json=_api_keys_json(),
        user_token_secret=USER_TOKEN_SECRET,
        ledger_url="http://ledger",
        ledger_api_key=LEDGER_TEST_API_KEY,
        ledger_attempts_max=2,
        mobile_money_callback_token=CALLBACK_TOKEN,
        sandbox_delivery_loop=False,
        log_json=False,
        outbox_poll_interval_ms=100,
        recovery_interval_ms=100,
        reservation_grace_ms=200,
        submission_grace_ms=200,
        status_query_after_ms=300,
        status_query_interval_ms=200,
    )


@pytest.fixture
def running_payout() -> RunningApp[PayoutSettings]:
    """`async with running_payout(settings) as client`: the app (no ledger calls) and an admin client."""
    return app_runner(create_app, api_key=PAYOUT_TEST_API_KEY, base_url="http://payout")


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def ledger_app(
    make_shared_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[FastAPI]:
    """A ledger of the module's own, migrated fresh, running with its lifespan. One per module, not
    per test: starting it costs a group join, and every test works on identities and balances of
    its own, so tests sharing it cannot see each other's money."""
    url = await make_shared_database("payoutledger")
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


@dataclass
class PayoutHarness:
    """A running payout: an admin client, the sandbox rail it pays through, and helpers."""

    admin: httpx.AsyncClient
    sandbox: SandboxProvider
    app: FastAPI

    def client(self, *, api_key: str | None = None, user: str | None = None) -> httpx.AsyncClient:
        headers = {"X-API-Key": api_key} if api_key else {"Authorization": f"Bearer {user_token(user or '')}"}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://payout", headers=headers)


RunningPayout = Callable[..., contextlib.AbstractAsyncContextManager[PayoutHarness]]


@pytest.fixture
def running_flow(ledger_app: FastAPI, payout_settings: PayoutSettings) -> RunningPayout:
    """`async with running_flow() as payout`: payout (lifespan, consumers, recovery) against the
    in-process ledger and a sandbox of the test's; `transport=` wraps the ledger transport."""

    @contextlib.asynccontextmanager
    async def run(
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        settings: PayoutSettings | None = None,
        default_outcome: SandboxOutcome = SandboxOutcome.APPROVE,
    ) -> AsyncIterator[PayoutHarness]:
        sandbox = SandboxProvider(
            default_scenario=Scenario(default_outcome), callback_token=CALLBACK_TOKEN, id_prefix="SBT"
        )
        app = create_app(
            settings or payout_settings,
            ledger_transport=transport or httpx.ASGITransport(app=ledger_app),
            payout_provider=sandbox,
        )
        async with running_app(app, api_key=PAYOUT_TEST_API_KEY, base_url="http://payout") as admin:
            yield PayoutHarness(admin=admin, sandbox=sandbox, app=app)

    return run
