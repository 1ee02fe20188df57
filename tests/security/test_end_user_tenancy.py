"""End users across services (issue 14 §3): an end user's token sees and changes only its own
resources. User B owns a top-up (funding), a withdrawal method, a withdrawal and a wallet (payout);
user A's token gets 404 on each of B's resources on every route that admits end users, cannot
deactivate B's method or withdraw through it, and lists none of B's. B's own token reaches them,
so a route that stopped answering at all would fail here too.

The routes probed are checked against `route_roles.py`: a new route that admits end users fails
this test until it gets a tenancy probe here.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.databases import with_database
from clearway.platform.user_tokens import issue_user_token

from . import apps
from .route_roles import NONE, ROUTE_ROLES, USER

pytestmark = pytest.mark.integration

TOPUPS = "/api/v1/payments/top-ups"
METHODS = "/api/v1/payments/withdrawal-methods"
WITHDRAWALS = "/api/v1/payments/withdrawals"
WALLET = "/api/v1/payments/wallet"
FUNDED_MINOR = 200_000
WITHDRAWAL_MINOR = 50_000
TOPUP_MINOR = 10_000
# Every route that admits end users, as route_roles.py names it, and the test below probes it.
PROBED = {
    "funding": {f"POST {TOPUPS}", f"GET {TOPUPS}/{{topup_id}}"},
    "payout": {
        f"POST {METHODS}",
        f"GET {METHODS}",
        f"GET {METHODS}/{{method_id}}",
        f"DELETE {METHODS}/{{method_id}}",
        f"POST {WITHDRAWALS}",
        f"GET {WITHDRAWALS}",
        f"GET {WITHDRAWALS}/{{withdrawal_id}}",
        f"GET {WALLET}",
    },
}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def user_apps(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[dict[str, FastAPI]]:
    """The ledger, funding and payout in-process (the services with end-user routes)."""
    created: list[str] = []

    async def make_database(prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return with_database(postgres_server_url, name, driver="asyncpg")

    try:
        async with contextlib.AsyncExitStack() as stack:
            ledger = await stack.enter_async_context(apps.ledger(make_database, kafka_bootstrap_servers))
            funding, payout = await asyncio.gather(
                stack.enter_async_context(apps.funding(make_database, kafka_bootstrap_servers, ledger)),
                stack.enter_async_context(apps.payout(make_database, kafka_bootstrap_servers, ledger)),
            )
            yield {"ledger": ledger, "funding": funding, "payout": payout}
    finally:
        connection = await asyncpg.connect(postgres_server_url)
        try:
            for name in created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service", headers=headers)


def as_user(app: FastAPI, identity_id: str) -> httpx.AsyncClient:
    settings = app.state.settings
    token = issue_user_token(
        identity_id,
        secret=apps.USER_TOKEN_SECRET,
        issuer=settings.user_token_issuer,
        audience=settings.user_token_audience,
    )
    return client(app, {"Authorization": f"Bearer {token}"})


@dataclass(frozen=True)
class Owned:
    """User B's resources."""

    topup_id: str
    method_id: str
    withdrawal_id: str


async def new_user_with_a_wallet(ledger: FastAPI, currency: str = "KES") -> str:
    async with client(ledger, {"X-API-Key": apps.ADMIN_KEY}) as admin:
        identity = await admin.post("/identities", json={"identity_type": "individual", "first_name": "Tenant"})
        assert identity.status_code == 201, identity.text
        user = str(identity.json()["identity_id"])
        wallet = await admin.post(
            "/balances", json={"indicator": f"wallet:{user}", "currency": currency, "identity_id": user}
        )
        assert wallet.status_code in (200, 201), wallet.text
        funded = await admin.post(
            "/transactions",
            json={
                "precise_amount": FUNDED_MINOR,
                "precision": 100,
                "currency": currency,
                "reference": f"tenancy-{uuid.uuid4().hex}",
                "source": f"@TenancyFunding-{currency}",
                "destination": wallet.json()["balance_id"],
                "allow_overdraft": True,
            },
        )
        assert funded.status_code == 201, funded.text
    return user


async def resources_of(user: str, funding: FastAPI, payout: FastAPI) -> Owned:
    async with as_user(funding, user) as on_funding, as_user(payout, user) as on_payout:
        topup = await on_funding.post(
            TOPUPS,
            json={"amount_minor": TOPUP_MINOR, "currency": "KES", "phone_number": "+254712345678"},
            headers={"Idempotency-Key": f"tenancy-{uuid.uuid4().hex}"},
        )
        assert topup.status_code == 201, topup.text
        method = await on_payout.post(
            METHODS,
            json={"type": "mobile_money", "provider": "mpesa", "phone_number": "+254712345679"},
            headers={"Idempotency-Key": f"tenancy-{uuid.uuid4().hex}"},
        )
        assert method.status_code == 201, method.text
        withdrawal = await on_payout.post(
            WITHDRAWALS,
            json={"withdrawal_method_id": method.json()["id"], "amount_minor": WITHDRAWAL_MINOR, "currency": "KES"},
            headers={"Idempotency-Key": f"tenancy-{uuid.uuid4().hex}"},
        )
        assert withdrawal.status_code == 201, withdrawal.text
    return Owned(topup.json()["id"], method.json()["id"], withdrawal.json()["withdrawal"]["id"])


def test_every_route_that_admits_end_users_has_a_tenancy_probe() -> None:
    admitting = {
        service: {route for route, roles in table.items() if USER in roles and NONE not in roles}
        for service, table in ROUTE_ROLES.items()
    }
    assert {service: routes for service, routes in admitting.items() if routes} == PROBED


async def test_an_end_users_token_reaches_only_its_own_resources(user_apps: dict[str, FastAPI]) -> None:
    funding, payout = user_apps["funding"], user_apps["payout"]
    a_id = await new_user_with_a_wallet(user_apps["ledger"])
    b_id = await new_user_with_a_wallet(user_apps["ledger"])
    owned = await resources_of(b_id, funding, payout)
    async with (
        as_user(funding, a_id) as a_funding,
        as_user(payout, a_id) as a_payout,
        as_user(funding, b_id) as b_funding,
        as_user(payout, b_id) as b_payout,
    ):
        reads = [
            (a_funding, b_funding, f"{TOPUPS}/{owned.topup_id}", "TOPUP_NOT_FOUND"),
            (a_payout, b_payout, f"{METHODS}/{owned.method_id}", None),
            (a_payout, b_payout, f"{WITHDRAWALS}/{owned.withdrawal_id}", None),
        ]
        for as_a, as_b, path, code in reads:
            theirs, own = await as_a.get(path), await as_b.get(path)
            assert (theirs.status_code, own.status_code) == (404, 200), (path, theirs.text, own.text)
            assert theirs.headers["content-type"] == "application/problem+json"
            assert code is None or theirs.json()["code"] == code, theirs.text

        # Changing B's things: deactivating B's method, or withdrawing through it, is "not found".
        deactivated = await a_payout.delete(
            f"{METHODS}/{owned.method_id}", headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert deactivated.status_code == 404, deactivated.text
        assert (await b_payout.get(f"{METHODS}/{owned.method_id}")).json()["active"] is True
        through_theirs = await a_payout.post(
            WITHDRAWALS,
            json={"withdrawal_method_id": owned.method_id, "amount_minor": WITHDRAWAL_MINOR, "currency": "KES"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert through_theirs.status_code == 404, through_theirs.text
        # Naming B as the wallet owner is refused before anything is created.
        for as_a, path, body in (
            (a_funding, TOPUPS, {"amount_minor": 10_000, "currency": "KES", "phone_number": "+254712345670"}),
            (a_payout, METHODS, {"type": "mobile_money", "provider": "mpesa", "phone_number": "+254712345671"}),
        ):
            named = await as_a.post(
                path, json={**body, "identity_id": b_id}, headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            assert 400 <= named.status_code < 500 and named.status_code not in (401, 403), (path, named.text)

        # Lists and the wallet show A's own only (A has nothing of its own but a funded wallet).
        for path in (METHODS, WITHDRAWALS):
            mine = await a_payout.get(path, params={"user_id": b_id})
            assert (mine.status_code, mine.json()["data"]) == (200, []), (path, mine.text)
            theirs = (await b_payout.get(path)).json()["data"]
            assert len(theirs) == 1, (path, theirs)
        wallet_a = (await a_payout.get(WALLET)).json()["data"]
        wallet_b = (await b_payout.get(WALLET)).json()["data"]
        assert [(w["balance_minor"], w["reserved_minor"]) for w in wallet_a] == [(FUNDED_MINOR, 0)], wallet_a
        # B's top-up may have been paid by the sandbox rail meanwhile: B's balance is the funding plus it.
        assert [(w["balance_minor"] - FUNDED_MINOR in (0, TOPUP_MINOR), w["reserved_minor"]) for w in wallet_b] == [
            (True, WITHDRAWAL_MINOR)
        ], wallet_b
        other = await a_payout.get(WALLET, params={"identity_id": b_id})
        assert (other.status_code, other.json()["code"]) == (422, "IDENTITY_MISMATCH"), other.text
