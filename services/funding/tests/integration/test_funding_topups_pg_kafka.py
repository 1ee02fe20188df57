"""Top-ups over real PostgreSQL and Kafka: funding and the ledger in-process, the sandbox as M-Pesa.

Each flow goes through HTTP exactly as a client and the provider would: the client starts a
top-up, the sandbox's callback is POSTed to funding's callback route, the wallet is read back
from the ledger, and the outbox shows the `topup.*` event published.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from clearway.devstack.databases import with_database
from clearway.devstack.testing import wait_until
from clearway.funding.config import FundingSettings
from clearway.funding.main import create_app as create_funding_app
from clearway.funding.main import run_migrations
from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import MIGRATIONS_DIR as LEDGER_MIGRATIONS_DIR
from clearway.ledger.main import create_app as create_ledger_app
from clearway.platform.db import create_engine
from clearway.platform.migrations import upgrade_database_async
from clearway.providers.mobile_money import (
    MobileMoneyProvider,
    SandboxOutcome,
    SandboxProvider,
    Scenario,
    StkPushAccepted,
    StkPushRequest,
)

pytestmark = pytest.mark.integration

LEDGER_KEY = "topup-it-ledger-admin"
FUNDING_KEY = "topup-it-funding-admin"
CALLBACK_TOKEN = "topup-it-callback-token-0123456789"
TOPUPS = "/api/v1/payments/top-ups"
PHONE = "0712 345 678"


@dataclass
class TopupStack:
    funding: httpx.AsyncClient
    ledger: httpx.AsyncClient
    sandbox: SandboxProvider
    funding_database_url: str
    ledger_app: Any
    kafka_bootstrap_servers: str

    @contextlib.asynccontextmanager
    async def restarted_funding(self, provider: MobileMoneyProvider) -> AsyncIterator[httpx.AsyncClient]:
        """A second funding process on the same database, as after Ctrl-C and `make run`."""
        # Its own consumer group: these tests are about HTTP, and a second member that leaves the shared
        # `funding.transfers` group wedges that group on the embedded broker (a Tansu gap).
        app = funding_app_with(
            self.funding_database_url,
            self.kafka_bootstrap_servers,
            self.ledger_app,
            provider,
            consumer_group_prefix=f"restarted-{uuid.uuid4().hex[:8]}.",
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://funding", headers={"X-API-Key": FUNDING_KEY}
            ) as client,
        ):
            yield client

    async def new_owner(self) -> str:
        response = await self.ledger.post("/identities", json={"identity_type": "individual", "first_name": "Wanjiku"})
        assert response.status_code == 201, response.text
        identity_id: str = response.json()["identity_id"]
        return identity_id

    async def start(self, owner: str | None, amount_minor: int = 150_000, key: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"amount_minor": amount_minor, "phone_number": PHONE}
        if owner is not None:
            body["identity_id"] = owner
        return await self.funding.post(TOPUPS, json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})

    async def topup(self, topup_id: str) -> dict[str, Any]:
        response = await self.funding.get(f"{TOPUPS}/{topup_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wallet_minor(self, owner: str) -> int:
        response = await self.ledger.get(f"/balances/indicator/wallet:{owner}/currency/KES")
        assert response.status_code == 200, response.text
        balance: int = response.json()["balance"]
        return balance

    async def credits_for(self, topup_id: str) -> list[dict[str, Any]]:
        response = await self.ledger.get("/transactions", params={"reference": f"topup:{topup_id}"})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def published_events(self, topic: str, topup_id: str) -> int:
        engine = create_engine(self.funding_database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                count = await connection.scalar(
                    text(
                        "SELECT count(*) FROM outbox WHERE topic = :topic AND message_key = :key"
                        " AND published_at IS NOT NULL"
                    ),
                    {"topic": topic, "key": topup_id},
                )
        finally:
            await engine.dispose()
        return int(count or 0)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def topup_databases(postgres_server_url: str) -> AsyncIterator[tuple[str, str]]:
    """One ledger and one funding database for the module (`make_database` is per test)."""
    names = [f"t_topup_{service}_{uuid.uuid4().hex[:10]}" for service in ("ledger", "funding")]
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


def funding_app_with(
    funding_url: str,
    kafka_bootstrap_servers: str,
    ledger_app: Any,
    provider: MobileMoneyProvider,
    *,
    consumer_group_prefix: str = "",
) -> Any:
    return create_funding_app(
        FundingSettings(
            database_url=funding_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            kafka_consumer_group_prefix=consumer_group_prefix,
            dev_api_key=FUNDING_KEY,
            log_json=False,
            outbox_poll_interval_ms=100,
            ledger_url="http://ledger",
            ledger_api_key=LEDGER_KEY,
            mobile_money_callback_token=CALLBACK_TOKEN,
            topup_status_query_after_ms=300,
            topup_status_query_interval_ms=200,
            topup_resolver_interval_ms=100,
            # The tests decide when the simulated customer's callback is sent.
            topup_sandbox_delivery_loop=False,
        ),
        ledger_transport=httpx.ASGITransport(app=ledger_app),
        topup_provider=provider,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def topup_stack(topup_databases: tuple[str, str], kafka_bootstrap_servers: str) -> AsyncIterator[TopupStack]:
    ledger_url, funding_url = topup_databases

    ledger_app = create_ledger_app(
        LedgerSettings(
            database_url=ledger_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            dev_api_key=LEDGER_KEY,
            log_json=False,
        )
    )
    sandbox = SandboxProvider(default_scenario=Scenario(SandboxOutcome.APPROVE), callback_token=CALLBACK_TOKEN)
    funding_app = funding_app_with(funding_url, kafka_bootstrap_servers, ledger_app, sandbox)
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
        yield TopupStack(
            funding=funding,
            ledger=ledger,
            sandbox=sandbox,
            funding_database_url=funding_url,
            ledger_app=ledger_app,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
        )


async def test_an_approved_top_up_credits_the_wallet_once(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    started = await topup_stack.start(owner)
    assert started.status_code == 201, started.text
    topup = started.json()
    assert topup["status"] == "pending" and topup["phone_number_masked"] == "+254******678"
    assert topup["checkout_request_id"]

    assert await topup_stack.sandbox.deliver_due() == 1
    settled = await topup_stack.topup(topup["id"])
    # The resolver's status query (due 300 ms after the push here) may settle it before the callback
    # on a busy machine: either way it is settled once.
    assert (settled["status"], settled["result_code"]) == ("succeeded", 0)
    assert settled["resolved_by"] in ("callback", "status_query")
    assert settled["ledger_reference"] == f"topup:{topup['id']}"
    assert settled["receipt"] or settled["resolved_by"] == "status_query"  # a status query omits it
    assert await topup_stack.wallet_minor(owner) == 150_000
    (credit,) = await topup_stack.credits_for(topup["id"])
    assert (credit["source"], credit["status"]) == ("@MobileMoney-sandbox-KES", "APPLIED")
    await wait_until(
        lambda: topup_stack.published_events("topup.succeeded", topup["id"]), "topup.succeeded is published"
    )


@pytest.mark.parametrize(
    ("outcome", "code", "reason"),
    [(SandboxOutcome.DECLINE, 1032, "cancelled_by_user"), (SandboxOutcome.TIMEOUT, 1037, "unreachable")],
    ids=["declined-1032", "unreachable-1037"],
)
async def test_a_declined_or_unanswered_prompt_fails_without_moving_money(
    topup_stack: TopupStack, outcome: SandboxOutcome, code: int, reason: str
) -> None:
    owner = await topup_stack.new_owner()
    topup_stack.sandbox.queue_next_scenario(outcome)
    topup = (await topup_stack.start(owner)).json()
    assert await topup_stack.sandbox.deliver_due() == 1
    failed = await topup_stack.topup(topup["id"])
    assert (failed["status"], failed["result_code"], failed["failure_reason"]) == ("failed", code, reason)
    assert failed["ledger_reference"] is None
    assert await topup_stack.credits_for(topup["id"]) == []
    assert await topup_stack.wallet_minor(owner) == 0  # created before the push, never credited
    await wait_until(lambda: topup_stack.published_events("topup.failed", topup["id"]), "topup.failed is published")


async def test_a_lost_callback_is_resolved_by_a_status_query(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    topup_stack.sandbox.queue_next_scenario(SandboxOutcome.LOST_CALLBACK)
    topup = (await topup_stack.start(owner)).json()
    assert await topup_stack.sandbox.deliver_due() == 0  # the customer paid; the callback never comes

    async def settled() -> bool:
        return (await topup_stack.topup(topup["id"]))["status"] != "pending"

    await wait_until(settled, "the resolver settles the top-up")
    resolved = await topup_stack.topup(topup["id"])
    assert (resolved["status"], resolved["resolved_by"]) == ("succeeded", "status_query")
    assert await topup_stack.wallet_minor(owner) == 150_000


async def test_a_duplicate_callback_does_not_credit_twice(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    topup = (await topup_stack.start(owner, amount_minor=70_000)).json()
    await topup_stack.sandbox.deliver_due()
    assert await topup_stack.sandbox.redeliver(topup["checkout_request_id"]) is True
    # And once more straight at the route, as a provider retrying on its own would.
    body = topup_stack.sandbox.callback_body(topup["checkout_request_id"])
    again = await topup_stack.funding.post(f"{TOPUPS}/callbacks/sandbox/{CALLBACK_TOKEN}", content=body)
    assert again.status_code == 200 and again.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert topup_stack.sandbox.request(topup["checkout_request_id"]).last_delivery_error is None
    assert len(await topup_stack.credits_for(topup["id"])) == 1
    assert await topup_stack.wallet_minor(owner) == 70_000
    await wait_until(
        lambda: topup_stack.published_events("topup.succeeded", topup["id"]), "topup.succeeded is published"
    )
    assert await topup_stack.published_events("topup.succeeded", topup["id"]) == 1


async def test_concurrent_duplicate_callbacks_credit_once(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    topup = (await topup_stack.start(owner, amount_minor=30_000)).json()
    body = topup_stack.sandbox.callback_body(topup["checkout_request_id"])
    url = f"{TOPUPS}/callbacks/sandbox/{CALLBACK_TOKEN}"
    answers = await asyncio.gather(*(topup_stack.funding.post(url, content=body) for _ in range(5)))
    assert [answer.status_code for answer in answers] == [200] * 5
    assert (await topup_stack.topup(topup["id"]))["status"] == "succeeded"
    assert len(await topup_stack.credits_for(topup["id"])) == 1
    assert await topup_stack.wallet_minor(owner) == 30_000
    await wait_until(
        lambda: topup_stack.published_events("topup.succeeded", topup["id"]), "topup.succeeded is published"
    )
    assert await topup_stack.published_events("topup.succeeded", topup["id"]) == 1
    await topup_stack.sandbox.deliver_due()  # its own (now duplicate) callback, so later tests start clean


async def test_a_top_up_needs_an_idempotency_key(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    response = await topup_stack.funding.post(
        TOPUPS, json={"amount_minor": 100, "phone_number": PHONE, "identity_id": owner}
    )
    assert response.status_code == 400 and response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_a_replay_with_the_same_key_returns_the_same_intent(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    pushes_before = len(topup_stack.sandbox.requests())
    key = f"topup-{uuid.uuid4().hex}"
    first = await topup_stack.start(owner, key=key)
    replay = await topup_stack.start(owner, key=key)
    assert first.status_code == replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json()["id"] == first.json()["id"]
    assert len(topup_stack.sandbox.requests()) == pushes_before + 1  # one prompt on the phone
    other = await topup_stack.start(owner, amount_minor=200_000, key=key)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    await topup_stack.sandbox.deliver_due()


async def test_an_unknown_wallet_owner_is_refused_before_the_phone_is_prompted(topup_stack: TopupStack) -> None:
    pushes_before = len(topup_stack.sandbox.requests())
    response = await topup_stack.start("idt_nobody")
    assert response.status_code == 422 and response.json()["code"] == "WALLET_OWNER_UNKNOWN"
    assert len(topup_stack.sandbox.requests()) == pushes_before


async def test_without_an_identity_the_workspace_wallet_is_topped_up(topup_stack: TopupStack) -> None:
    topup = (await topup_stack.start(None, amount_minor=10_000)).json()
    assert topup["identity_id"]
    await topup_stack.sandbox.deliver_due()
    assert (await topup_stack.topup(topup["id"]))["status"] == "succeeded"
    assert await topup_stack.wallet_minor(topup["identity_id"]) >= 10_000


async def test_topups_after_a_restart_do_not_collide_with_stored_provider_ids(topup_stack: TopupStack) -> None:
    """Issue 12, defect 1: every top-up after a restart answered 500 (the sandbox numbered from 1 again)."""
    owner = await topup_stack.new_owner()
    before = await topup_stack.start(owner, amount_minor=1_000)
    assert before.status_code == 201, before.text
    restarted_sandbox = SandboxProvider(
        default_scenario=Scenario(SandboxOutcome.APPROVE), callback_token=CALLBACK_TOKEN
    )
    async with topup_stack.restarted_funding(restarted_sandbox) as funding:
        after = await funding.post(
            TOPUPS,
            json={"amount_minor": 2_000, "phone_number": PHONE, "identity_id": owner},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert after.status_code == 201, after.text
        assert after.json()["checkout_request_id"] != before.json()["checkout_request_id"]
        assert await restarted_sandbox.deliver_due() == 1
        settled = await funding.get(f"{TOPUPS}/{after.json()['id']}")
        assert settled.json()["status"] == "succeeded", settled.text


class _ReusesACheckoutId:
    """A provider that answers with a request id the database already holds (a misbehaving rail)."""

    def __init__(self, inner: SandboxProvider, reused_checkout_id: str) -> None:
        self._inner = inner
        self._reused = reused_checkout_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted:
        accepted = await self._inner.initiate_stk_push(request)
        return dataclasses.replace(accepted, checkout_request_id=self._reused)


async def test_a_provider_id_already_stored_is_a_clear_error_not_a_500(topup_stack: TopupStack) -> None:
    owner = await topup_stack.new_owner()
    first = await topup_stack.start(owner, amount_minor=1_000)
    assert first.status_code == 201, first.text
    misbehaving = _ReusesACheckoutId(
        SandboxProvider(callback_token=CALLBACK_TOKEN), first.json()["checkout_request_id"]
    )
    key = uuid.uuid4().hex
    async with topup_stack.restarted_funding(misbehaving) as funding:  # type: ignore[arg-type]
        body = {"amount_minor": 2_000, "phone_number": PHONE, "identity_id": owner}
        refused = await funding.post(TOPUPS, json=body, headers={"Idempotency-Key": key})
        assert refused.status_code == 502, refused.text
        assert refused.json()["code"] == "PROVIDER_REFERENCE_CONFLICT"
        # The earlier top-up keeps its id; the new intent is kept, pending, for reconciliation.
        assert (await topup_stack.topup(first.json()["id"]))["checkout_request_id"] == first.json()[
            "checkout_request_id"
        ]
