"""End users top up their own wallet with a bearer token, over real PostgreSQL and Kafka.

Funding and the ledger run in-process (the sandbox plays M-Pesa), configured with the embedded
stack's kind of key: an HS256 secret. A user's token names their ledger identity (`sub`); the
operator API key keeps working beside it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.databases import with_database
from clearway.funding.config import FundingSettings
from clearway.funding.main import create_app as create_funding_app
from clearway.funding.main import run_migrations
from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import MIGRATIONS_DIR as LEDGER_MIGRATIONS_DIR
from clearway.ledger.main import create_app as create_ledger_app
from clearway.platform.migrations import upgrade_database_async
from clearway.platform.user_tokens import issue_user_token
from clearway.providers.mobile_money import SandboxOutcome, SandboxProvider, Scenario

pytestmark = pytest.mark.integration

LEDGER_KEY = "user-token-it-ledger-admin"
FUNDING_KEY = "user-token-it-funding-admin"
CALLBACK_TOKEN = "user-token-it-callback-token-0123456789"
USER_TOKEN_SECRET = "user-token-it-secret-" + "x" * 32
TOPUPS = "/api/v1/payments/top-ups"
PHONE = "0712 345 678"


@dataclass
class Stack:
    funding_app: FastAPI
    funding: httpx.AsyncClient  # the operator's API key (admin)
    ledger: httpx.AsyncClient
    sandbox: SandboxProvider

    async def new_identity(self) -> str:
        response = await self.ledger.post("/identities", json={"identity_type": "individual", "first_name": "Amina"})
        assert response.status_code == 201, response.text
        identity_id: str = response.json()["identity_id"]
        return identity_id

    def as_user(self, identity_id: str, **token_overrides: Any) -> httpx.AsyncClient:
        values: dict[str, Any] = {"secret": USER_TOKEN_SECRET, "issuer": "clearway", "audience": "clearway-wallet"}
        values.update(token_overrides)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.funding_app),
            base_url="http://funding",
            headers={"Authorization": f"Bearer {issue_user_token(identity_id, **values)}"},
        )


async def start(client: httpx.AsyncClient, key: str | None = None, **body: Any) -> httpx.Response:
    payload = {"amount_minor": 5_000, "phone_number": PHONE, **body}
    return await client.post(TOPUPS, json=payload, headers={"Idempotency-Key": key or uuid.uuid4().hex})


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def databases(postgres_server_url: str) -> AsyncIterator[tuple[str, str]]:
    names = [f"t_usertok_{service}_{uuid.uuid4().hex[:10]}" for service in ("ledger", "funding")]
    connection = await asyncpg.connect(postgres_server_url)
    try:
        for name in names:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    ledger_url, funding_url = (with_database(postgres_server_url, name, driver="asyncpg") for name in names)
    await upgrade_database_async(LEDGER_MIGRATIONS_DIR, ledger_url)
    await asyncio.to_thread(run_migrations, funding_url)
    yield ledger_url, funding_url
    connection = await asyncpg.connect(postgres_server_url)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def stack(databases: tuple[str, str], kafka_bootstrap_servers: str) -> AsyncIterator[Stack]:
    ledger_url, funding_url = databases
    ledger_app = create_ledger_app(
        LedgerSettings(
            database_url=ledger_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            dev_api_key=LEDGER_KEY,
            log_json=False,
        )
    )
    sandbox = SandboxProvider(default_scenario=Scenario(SandboxOutcome.APPROVE), callback_token=CALLBACK_TOKEN)
    funding_app = create_funding_app(
        FundingSettings(
            database_url=funding_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            # Its own consumer groups: these tests are about HTTP and must not join another module's groups.
            kafka_consumer_group_prefix=f"usertok-{uuid.uuid4().hex[:8]}.",
            dev_api_key=FUNDING_KEY,
            user_token_secret=USER_TOKEN_SECRET,
            log_json=False,
            outbox_poll_interval_ms=100,
            ledger_url="http://ledger",
            ledger_api_key=LEDGER_KEY,
            mobile_money_callback_token=CALLBACK_TOKEN,
            topup_sandbox_delivery_loop=False,
        ),
        ledger_transport=httpx.ASGITransport(app=ledger_app),
        topup_provider=sandbox,
    )
    async with (
        ledger_app.router.lifespan_context(ledger_app),
        funding_app.router.lifespan_context(funding_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ledger_app), base_url="http://ledger", headers={"X-API-Key": LEDGER_KEY}
        ) as ledger,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=funding_app),
            base_url="http://funding",
            headers={"X-API-Key": FUNDING_KEY},
        ) as funding,
    ):
        yield Stack(funding_app=funding_app, funding=funding, ledger=ledger, sandbox=sandbox)


async def test_a_user_tops_up_their_own_wallet_and_only_they_can_read_it(stack: Stack) -> None:
    amina, baraka = await stack.new_identity(), await stack.new_identity()
    async with stack.as_user(amina) as as_amina, stack.as_user(baraka) as as_baraka:
        started = await start(as_amina)  # no identity_id: the wallet owner is the token's `sub`
        assert started.status_code == 201, started.text
        topup = started.json()
        assert (topup["identity_id"], topup["workspace_id"]) == (amina, "default")
        assert (await start(as_amina, identity_id=amina)).status_code == 201  # naming oneself is fine

        assert (await as_amina.get(f"{TOPUPS}/{topup['id']}")).json()["id"] == topup["id"]
        theirs = await as_baraka.get(f"{TOPUPS}/{topup['id']}")
        assert (theirs.status_code, theirs.json()["code"]) == (404, "TOPUP_NOT_FOUND")
        unknown = await as_baraka.get(f"{TOPUPS}/top_does_not_exist")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "TOPUP_NOT_FOUND")
        # The operator's key still reads every top-up of the workspace.
        assert (await stack.funding.get(f"{TOPUPS}/{topup['id']}")).status_code == 200
    await stack.sandbox.deliver_due()


async def test_a_user_naming_another_wallet_owner_is_refused_before_the_phone_is_prompted(stack: Stack) -> None:
    amina, baraka = await stack.new_identity(), await stack.new_identity()
    pushes_before = len(stack.sandbox.requests())
    async with stack.as_user(amina) as as_amina:
        refused = await start(as_amina, identity_id=baraka)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "IDENTITY_MISMATCH"
    assert len(stack.sandbox.requests()) == pushes_before


async def test_operator_api_keys_keep_working_and_their_top_ups_stay_private_to_users(stack: Stack) -> None:
    amina, baraka = await stack.new_identity(), await stack.new_identity()
    by_operator = await start(stack.funding, identity_id=baraka)
    assert by_operator.status_code == 201, by_operator.text
    assert by_operator.json()["identity_id"] == baraka
    async with stack.as_user(amina) as as_amina, stack.as_user(baraka) as as_baraka:
        assert (await as_amina.get(f"{TOPUPS}/{by_operator.json()['id']}")).status_code == 404
        # The wallet's owner sees a top-up made for them, whoever started it.
        assert (await as_baraka.get(f"{TOPUPS}/{by_operator.json()['id']}")).status_code == 200
    await stack.sandbox.deliver_due()


async def test_idempotency_keys_are_each_users_own(stack: Stack) -> None:
    amina, baraka = await stack.new_identity(), await stack.new_identity()
    key = f"shared-{uuid.uuid4().hex}"
    async with stack.as_user(amina) as as_amina, stack.as_user(baraka) as as_baraka:
        first = await start(as_amina, key=key)
        replay = await start(as_amina, key=key)
        assert first.status_code == replay.status_code == 201, first.text
        assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json()["id"] == first.json()["id"]
        # Another user with the same key gets a top-up of their own, neither a replay nor a refusal.
        other = await start(as_baraka, key=key)
        assert other.status_code == 201, other.text
        assert other.json()["id"] != first.json()["id"] and other.json()["identity_id"] == baraka
    await stack.sandbox.deliver_due()


async def test_bad_tokens_are_401_and_users_reach_only_routes_meant_for_them(stack: Stack) -> None:
    amina = await stack.new_identity()
    async with stack.as_user(amina, secret="some-other-secret-" + "y" * 32) as forged:
        response = await start(forged)
        assert (response.status_code, response.json()["code"]) == (401, "USER_TOKEN_INVALID")
    async with stack.as_user(amina, ttl_s=-120) as expired:
        response = await expired.get(f"{TOPUPS}/top_anything")
        assert (response.status_code, response.json()["code"]) == (401, "USER_TOKEN_EXPIRED")
    async with stack.as_user(amina) as as_amina:
        payables = await as_amina.get("/payables")
        assert payables.status_code == 403  # operators' views stay theirs
