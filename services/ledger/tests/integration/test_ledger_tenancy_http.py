"""Tenant isolation in the ledger (issue 14 §3), over HTTP against real PostgreSQL.

Found by trying two workspace-scoped operator keys against `make run`: workspace B's key read
workspace A's ledger, listed every ledger, and posted from `@World` into any balance (minted money
anywhere). Now a workspace key sees and changes only its own workspace's ledgers and what is inside
them (another tenant's resource is 404, lists are filtered), money leaves an internal `@` balance
only for a service principal or admin (403 `INTERNAL_BALANCE_RESERVED`), and a platform key (no
workspace) still sees everything.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from clearway.devstack.testing import running_app
from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import create_app
from clearway.platform.auth import hash_api_key

pytestmark = pytest.mark.integration

ADMIN_KEY = "tenancy-admin-key"  # the platform's dev admin key: no workspace, every role
KEYS = {
    "a": ("workspace-a-operator", ["operator"], "ws_a"),
    "b": ("workspace-b-operator", ["operator"], "ws_b"),
    "a_service": ("workspace-a-service", ["service"], "ws_a"),
    "platform_operator": ("platform-operator", ["operator"], None),
    "platform_service": ("platform-service", ["service"], None),
    "b_reader": ("workspace-b-reader", ["read_only"], "ws_b"),
}


def api_keys_json() -> str:
    entries = [
        {"name": name, "key_sha256": hash_api_key(f"key-{who}"), "roles": roles, "workspace_id": workspace}
        for who, (name, roles, workspace) in KEYS.items()
    ]
    return orjson.dumps(entries).decode()


@dataclass
class Tenants:
    client: httpx.AsyncClient

    async def call(self, who: str, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        key = ADMIN_KEY if who == "admin" else f"key-{who}"
        return await self.client.request(method, path, json=body, params=params or None, headers={"X-API-Key": key})

    async def ok(self, who: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.call(who, method, path, body, **params)
        assert response.status_code in (200, 201), (who, method, path, response.status_code, response.text)
        return response.json()

    async def refused(self, who: str, method: str, path: str, body: Any = None, *, status: int, code: str) -> None:
        response = await self.call(who, method, path, body)
        assert response.status_code == status, (who, method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        assert response.json()["code"] == code, response.text


@pytest_asyncio.fixture(loop_scope="session")
async def tenants(
    make_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Tenants]:
    import asyncio

    from clearway.ledger.main import run_migrations

    url = await make_database("ledger_tenancy")
    await asyncio.to_thread(run_migrations, url)
    settings = LedgerSettings(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=ADMIN_KEY,
        api_keys_json=api_keys_json(),
        log_json=False,
    )
    async with running_app(create_app(settings), api_key=ADMIN_KEY, base_url="http://ledger") as client:
        yield Tenants(client)


def ref(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


def transfer(source: str, destination: str, amount: int = 10, **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD", "reference": ref("t"), "source": source,
            "destination": destination, **extra}  # fmt: skip


async def workspace_books(tenants: Tenants, who: str) -> tuple[str, str, str]:
    """A ledger with two balances, created by `who`; the first funded with 100 USD by the platform."""
    ledger = await tenants.ok(who, "POST", "/ledgers", {"name": f"books of {who}"})
    first = await tenants.ok(who, "POST", "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    second = await tenants.ok(who, "POST", "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    await tenants.ok("admin", "POST", "/transactions", transfer("@World-USD", first["balance_id"], 100,
                                                                 allow_overdraft=True))  # fmt: skip
    return ledger["ledger_id"], first["balance_id"], second["balance_id"]


async def balance_of(tenants: Tenants, balance_id: str) -> int:
    return int((await tenants.ok("admin", "GET", f"/balances/{balance_id}"))["balance"])


async def test_a_workspace_key_cannot_see_or_list_another_tenants_ledger(tenants: Tenants) -> None:
    ledger_a, balance_a, _ = await workspace_books(tenants, "a")
    ledger_b, balance_b, _ = await workspace_books(tenants, "b")
    identity_a = await tenants.ok("a", "POST", "/identities", {"identity_type": "individual", "first_name": "Ada"})
    monitor_a = await tenants.ok("a", "POST", "/balance-monitors", {"balance_id": balance_a, "description": "low",
                                 "condition": {"field": "balance", "operator": "<", "value": 1}})  # fmt: skip

    for path in (
        f"/ledgers/{ledger_a}",
        f"/balances/{balance_a}",
        f"/balances/{balance_a}/at?timestamp=2030-01-01T00:00:00Z",
        f"/identities/{identity_a['identity_id']}",
        f"/balance-monitors/{monitor_a['monitor_id']}",
        f"/ledgers/{ledger_a}/schema",
        f"/ledgers/{ledger_a}/accounts",
        f"/ledgers/{ledger_a}/entries/some-ik",
        "/ledgers/general_ledger_id",  # the platform's general ledger and its `@World`
        "/balances/indicator/@World/currency/USD",
    ):
        for who in ("b", "b_reader"):
            await tenants.refused(who, "GET", path, status=404, code="NOT_FOUND")

    ledgers_b = {item["ledger_id"] for item in await tenants.ok("b", "GET", "/ledgers", limit=100)}
    assert ledgers_b == {ledger_b}
    balances_b = {item["balance_id"] for item in await tenants.ok("b", "GET", "/balances", limit=100)}
    assert balance_b in balances_b and balance_a not in balances_b
    assert await tenants.ok("b", "GET", "/balances", ledger_id=ledger_a) == []
    assert await tenants.ok("b", "GET", "/identities", limit=100) == []

    # The platform's key still sees both workspaces, and the general ledger.
    ledgers_platform = {item["ledger_id"] for item in await tenants.ok("admin", "GET", "/ledgers", limit=100)}
    assert {ledger_a, ledger_b, "general_ledger_id"} <= ledgers_platform
    await tenants.ok("platform_operator", "GET", f"/ledgers/{ledger_a}")
    await tenants.ok("platform_operator", "GET", f"/identities/{identity_a['identity_id']}")


async def test_a_workspace_key_cannot_change_another_tenants_ledger(tenants: Tenants) -> None:
    ledger_a, balance_a, _ = await workspace_books(tenants, "a")
    for method, path, body in (
        ("POST", "/balances", {"ledger_id": ledger_a, "currency": "USD"}),
        ("POST", "/balances", {"ledger_id": ledger_a, "currency": "USD", "indicator": ref("wallet")}),
        ("POST", "/balance-monitors", {"balance_id": balance_a,
                                       "condition": {"field": "balance", "operator": ">", "value": 1}}),
        ("POST", f"/ledgers/{ledger_a}/schema/shipped/reconciliation", None),
        ("PUT", f"/ledgers/{ledger_a}/schema", {"key": "x", "version": 1}),
        ("POST", f"/ledgers/{ledger_a}/entries", {"type": "reconcile_payment", "ik": ref("ik"), "parameters": {}}),
        ("POST", f"/ledgers/{ledger_a}/entries/some-ik/reverse", None),
    ):  # fmt: skip
        await tenants.refused("b", method, path, body, status=404, code="NOT_FOUND")
    # Schema entries on A's own ledger work for A; B cannot read them.
    await tenants.ok("a", "POST", f"/ledgers/{ledger_a}/schema/shipped/reconciliation")
    ik = ref("split")
    entry = {"type": "split_bulk_payment", "ik": ik, "parameters": {"user_id": "u1", "amount": 0}, "currency": "USD"}
    posted = await tenants.call("a", "POST", f"/ledgers/{ledger_a}/entries", entry)
    assert posted.status_code in (201, 400, 422), posted.text  # reached the schema engine: the ledger is A's
    await tenants.refused("b", "GET", f"/ledgers/{ledger_a}/accounts", status=404, code="NOT_FOUND")
    assert (await tenants.ok("a", "GET", f"/ledgers/{ledger_a}/accounts"))["data"] is not None


async def test_a_workspace_key_cannot_mint_money_from_world_into_another_tenants_balance(tenants: Tenants) -> None:
    _, balance_a, _ = await workspace_books(tenants, "a")
    _, balance_b, _ = await workspace_books(tenants, "b")

    for source in ("@World-USD", "@World", "@Anything-USD"):
        body = transfer(source, balance_a, 1_000_000, allow_overdraft=True)
        await tenants.refused("b", "POST", "/transactions", body, status=403, code="INTERNAL_BALANCE_RESERVED")
    # From its own balance, overdrawn on purpose, into A's: A's balance is not found for B.
    body = transfer(balance_b, balance_a, 1_000_000, allow_overdraft=True)
    await tenants.refused("b", "POST", "/transactions", body, status=404, code="NOT_FOUND")
    # Out of A's balance into B's: the same.
    await tenants.refused("b", "POST", "/transactions", transfer(balance_a, balance_b), status=404, code="NOT_FOUND")
    bulk = {"atomic": False, "transactions": [transfer("@World-USD", balance_b, 5, allow_overdraft=True)]}
    await tenants.refused("b", "POST", "/transactions/bulk", bulk, status=403, code="INTERNAL_BALANCE_RESERVED")
    bulk = {"atomic": False, "transactions": [transfer(balance_b, balance_a, 5)]}
    result = await tenants.ok("b", "POST", "/transactions/bulk", bulk)
    assert result["failed_count"] == 1 and result["failures"][0]["code"] == "NOT_FOUND", result
    assert await balance_of(tenants, balance_a) == 100_00


async def test_an_atomic_bulk_answers_a_workspace_only_its_own_balances(tenants: Tenants) -> None:
    _, balance_a, _ = await workspace_books(tenants, "a")
    _, balance_b, other_b = await workspace_books(tenants, "b")
    bulk = {"atomic": True, "include_balances": True, "transactions": [transfer(balance_b, other_b, 5)]}
    applied = await tenants.ok("b", "POST", "/transactions/bulk", bulk)
    assert {item["balance_id"] for item in applied["balances"]} == {balance_b, other_b}
    # Refused because A's balance is not B's to move into: A's figures stay out of the answer.
    bulk = {"atomic": True, "include_balances": True,
            "transactions": [transfer(balance_b, other_b, 5), transfer(balance_b, balance_a, 5)]}  # fmt: skip
    refused = await tenants.call("b", "POST", "/transactions/bulk", bulk)
    assert refused.status_code == 422, refused.text
    assert balance_a not in {item["balance_id"] for item in refused.json()["balances"]}
    assert await balance_of(tenants, balance_a) == 100_00


async def test_a_workspace_key_cannot_mint_money_from_world_into_its_own_balance(tenants: Tenants) -> None:
    _, balance_a, _ = await workspace_books(tenants, "a")
    body = transfer("@World-USD", balance_a, 500, allow_overdraft=True)
    await tenants.refused("a", "POST", "/transactions", body, status=403, code="INTERNAL_BALANCE_RESERVED")
    # Nor may it pay into the platform's internal balances (they are not the workspace's).
    await tenants.refused("a", "POST", "/transactions", transfer(balance_a, "@Fees-USD"), status=403,
                          code="INTERNAL_BALANCE_RESERVED")  # fmt: skip
    # Nor create an `@` balance of its own that platform postings to `@Name` would land in.
    body = {"ledger_id": (await tenants.ok("a", "GET", f"/balances/{balance_a}"))["ledger_id"], "currency": "USD",
            "indicator": "@Fees"}  # fmt: skip
    await tenants.refused("a", "POST", "/balances", body, status=403, code="INTERNAL_BALANCE_RESERVED")
    # A platform operator key without the service role may not mint either; service keys may.
    await tenants.refused("platform_operator", "POST", "/transactions",
                          transfer("@World-USD", balance_a, 5, allow_overdraft=True), status=403,
                          code="INTERNAL_BALANCE_RESERVED")  # fmt: skip
    await tenants.ok("platform_service", "POST", "/transactions", transfer("@World-USD", balance_a, 5,
                                                                           allow_overdraft=True))  # fmt: skip
    await tenants.ok("a_service", "POST", "/transactions", transfer("@World-USD", balance_a, 5,
                                                                    allow_overdraft=True))  # fmt: skip
    assert await balance_of(tenants, balance_a) == 100_00 + 500 + 500


async def test_a_workspace_key_cannot_read_or_settle_another_tenants_transactions(tenants: Tenants) -> None:
    _, balance_a, other_a = await workspace_books(tenants, "a")
    await workspace_books(tenants, "b")
    applied = await tenants.ok("a", "POST", "/transactions", transfer(balance_a, other_a, 10))
    held = await tenants.ok("a", "POST", "/transactions", transfer(balance_a, other_a, 20, inflight=True))
    assert applied["status"] == "APPLIED" and held["status"] == "INFLIGHT"
    for who in ("a", "admin", "platform_operator"):
        await tenants.ok(who, "GET", f"/transactions/{applied['transaction_id']}")
        await tenants.ok(who, "GET", f"/transactions/reference/{applied['reference']}")

    for path in (f"/transactions/{applied['transaction_id']}", f"/transactions/reference/{applied['reference']}"):
        await tenants.refused("b", "GET", path, status=404, code="NOT_FOUND")
    listed_b = {item["transaction_id"] for item in await tenants.ok("b", "GET", "/transactions", limit=100)}
    assert applied["transaction_id"] not in listed_b and held["transaction_id"] not in listed_b
    searched = await tenants.ok("b", "POST", "/search/transactions", {"q": applied["reference"]})
    assert searched["found"] == 0 and searched["hits"] == []
    searched = await tenants.ok("a", "POST", "/search/transactions", {"q": applied["reference"]})
    assert searched["found"] == 1
    listed_a = {item["transaction_id"] for item in await tenants.ok("a", "GET", "/transactions", limit=100)}
    assert {applied["transaction_id"], held["transaction_id"]} <= listed_a

    hold = held["transaction_id"]
    for body in ({"status": "commit"}, {"status": "commit", "amount": 1}, {"status": "void"}):
        await tenants.refused("b", "PUT", f"/transactions/inflight/{hold}", body, status=404, code="NOT_FOUND")
    for path in (f"/refund-transaction/{applied['transaction_id']}",
                 f"/transactions/refund-transaction/{applied['transaction_id']}"):  # fmt: skip
        await tenants.refused("b", "POST", path, status=404, code="NOT_FOUND")
    # B reusing A's reference learns that it is taken, not what it names.
    reuse = {**transfer(balance_a, other_a, 10), "reference": applied["reference"]}
    response = await tenants.call("b", "POST", "/transactions", reuse)
    assert response.status_code == 409 and "transaction_id" not in response.json(), response.text

    # A's own flows still work: commit part of its hold, refund its transfer.
    committed = await tenants.ok("a", "PUT", f"/transactions/inflight/{hold}", {"status": "commit", "amount": 5})
    assert committed["status"] == "APPLIED"
    refunded = await tenants.ok("a", "POST", f"/refund-transaction/{applied['transaction_id']}")
    assert refunded["status"] == "APPLIED"
    assert await balance_of(tenants, other_a) == 5_00


async def test_a_workspace_key_cannot_undo_the_platforms_world_postings(tenants: Tenants) -> None:
    """A refund or a hold settlement moves money out of (or into) `@World` like a transfer would."""
    _, balance_a, _ = await workspace_books(tenants, "a")
    funding = await tenants.ok("admin", "POST", "/transactions", transfer("@World-USD", balance_a, 7,
                                                                          allow_overdraft=True))  # fmt: skip
    await tenants.refused("a", "POST", f"/refund-transaction/{funding['transaction_id']}", status=403,
                          code="INTERNAL_BALANCE_RESERVED")  # fmt: skip
    hold = await tenants.ok("admin", "POST", "/transactions", transfer("@World-USD", balance_a, 3, inflight=True,
                                                                       allow_overdraft=True))  # fmt: skip
    await tenants.refused("a", "PUT", f"/transactions/inflight/{hold['transaction_id']}", {"status": "commit"},
                          status=403, code="INTERNAL_BALANCE_RESERVED")  # fmt: skip
    await tenants.ok("admin", "PUT", f"/transactions/inflight/{hold['transaction_id']}", {"status": "commit"})


async def test_ledger_iks_are_per_workspace(tenants: Tenants) -> None:
    ik = ref("books")
    platform = await tenants.ok("admin", "POST", "/ledgers", {"name": "platform", "ik": ik})
    a = await tenants.ok("a", "POST", "/ledgers", {"name": "a", "ik": ik})
    b = await tenants.ok("b", "POST", "/ledgers", {"name": "b", "ik": ik})
    assert len({platform["ledger_id"], a["ledger_id"], b["ledger_id"]}) == 3
    again = await tenants.call("a", "POST", "/ledgers", {"name": "a again", "ik": ik})
    assert again.status_code == 200 and again.json()["ledger_id"] == a["ledger_id"]
    # A lookup by ik finds the caller's own ledger: a workspace can never answer a service's lookup.
    assert [item["ledger_id"] for item in await tenants.ok("admin", "GET", "/ledgers", ik=ik)] == [
        platform["ledger_id"]
    ]
    assert [item["ledger_id"] for item in await tenants.ok("b", "GET", "/ledgers", ik=ik)] == [b["ledger_id"]]
