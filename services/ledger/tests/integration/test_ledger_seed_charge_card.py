"""Seed 002 (charge card on Blnk) driven over HTTP exactly as its curl calls do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def ref(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None, expect: int = 201) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == expect, response.text
    return response.json()


async def balance(client: httpx.AsyncClient, balance_id: str) -> dict[str, Any]:
    response = await client.get(f"/balances/{balance_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_seed_002_charge_card_flow(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    ledger = await post(client, "/ledgers", {"name": "Xavier Woods Card Ledger"})
    identity = await post(client, "/identities", {"first_name": "Xavier", "last_name": "Woods"})
    assert identity["first_name"] == "Xavier"
    names = [
        "card:primary",
        "fees:payable",
        "transaction:interest",
        "billed:balance",
        "overdue:balance",
        "overdue:interest",
    ]
    ids: dict[str, str] = {}
    for name in names:
        created = await post(
            client,
            "/balances",
            {
                "ledger_id": ledger["ledger_id"],
                "identity_id": identity["identity_id"],
                "currency": "USD",
                "meta_data": {"type": name},
            },
        )
        assert created["balance"] == 0 and created["currency"] == "USD"
        ids[name] = created["balance_id"]
    primary = ids["card:primary"]

    # 2 -> 4: card authorization, inflight with a 5,000.00 overdraft limit.
    card_auth = await post(
        client,
        "/transactions",
        {
            "amount": 2000,
            "precision": 100,
            "currency": "USD",
            "reference": ref("auth"),
            "source": primary,
            "destination": "@World-USD",
            "description": "Card transaction",
            "allow_overdraft": True,
            "overdraft_limit": 5000,
            "inflight": True,
        },
    )
    assert card_auth["status"] == "INFLIGHT"
    assert card_auth["precise_amount"] == 200000
    # 5 -> 6: ATM authorization over the 3,000.00 left is rejected, one within it is held.
    over_limit = await post(
        client,
        "/transactions",
        {
            "amount": 3000.01,
            "precision": 100,
            "currency": "USD",
            "reference": ref("atm"),
            "source": primary,
            "destination": "@World-USD",
            "allow_overdraft": True,
            "overdraft_limit": 5000,
            "inflight": True,
        },
    )
    assert over_limit["status"] == "REJECTED"
    atm = await post(
        client,
        "/transactions",
        {
            "amount": 500,
            "precision": 100,
            "currency": "USD",
            "reference": ref("atm"),
            "source": primary,
            "destination": "@World-USD",
            "allow_overdraft": True,
            "overdraft_limit": 5000,
            "inflight": True,
        },
    )
    assert atm["status"] == "INFLIGHT"
    state = await balance(client, primary)
    assert state["balance"] == 0 and state["inflight_debit_balance"] == 250000

    # 6a -> 6b: markup fee and interest, as overdraft.
    fee = await post(
        client,
        "/transactions",
        {
            "amount": 30,
            "precision": 100,
            "currency": "USD",
            "reference": ref("fee"),
            "source": ids["fees:payable"],
            "destination": "@EnfuceFees",
            "description": "1.5% fees of card transaction",
            "allow_overdraft": True,
        },
    )
    assert fee["status"] == "APPLIED"
    await post(
        client,
        "/transactions",
        {
            "amount": 20,
            "precision": 100,
            "currency": "USD",
            "reference": ref("interest"),
            "source": ids["transaction:interest"],
            "destination": "@EnfuceInterestAccrued",
            "allow_overdraft": True,
        },
    )

    # 7 -> 8: clearing commits both holds; the fee is refunded and re-posted.
    committed = await client.put(f"/transactions/inflight/{card_auth['transaction_id']}", json={"status": "commit"})
    assert committed.status_code == 200, committed.text
    assert committed.json()["status"] == "APPLIED"
    assert committed.json()["parent_transaction"] == card_auth["transaction_id"]
    atm_commit = await client.put(f"/transactions/inflight/{atm['transaction_id']}", json={"status": "commit"})
    assert atm_commit.status_code == 200
    refund = await post(client, f"/transactions/refund-transaction/{fee['transaction_id']}")
    assert refund["status"] == "APPLIED"
    again = await client.post(f"/transactions/refund-transaction/{fee['transaction_id']}")
    assert again.status_code == 409
    await post(
        client,
        "/transactions",
        {
            "amount": 30,
            "precision": 100,
            "currency": "USD",
            "reference": ref("fee"),
            "source": ids["fees:payable"],
            "destination": "@EnfuceFees",
            "allow_overdraft": True,
        },
    )
    state = await balance(client, primary)
    assert state["balance"] == -250000 and state["inflight_debit_balance"] == 0

    # 9: billing cycle: find the cycle's transactions, move the billed principal.
    found = await post(
        client,
        "/search/transactions",
        {
            "q": primary,
            "query_by": "source,destination",
            "filter_by": "created_at:[2000-01-01T00:00:00Z...2100-01-01T00:00:00Z]",
            "sort_by": "created_at:desc",
        },
        expect=200,
    )
    assert found["found"] >= 2
    await post(
        client,
        "/transactions",
        {
            "amount": 2500,
            "precision": 100,
            "currency": "USD",
            "reference": ref("bill"),
            "source": ids["billed:balance"],
            "destination": "@CustomerRepayments",
            "description": "Invoice created",
            "allow_overdraft": True,
        },
    )
    # 10: overdue.
    await post(
        client,
        "/transactions",
        {
            "amount": 2500,
            "precision": 100,
            "currency": "USD",
            "reference": ref("overdue"),
            "source": ids["overdue:balance"],
            "destination": ids["billed:balance"],
            "allow_overdraft": True,
        },
    )
    await post(
        client,
        "/transactions",
        {
            "amount": 20,
            "precision": 100,
            "currency": "USD",
            "reference": ref("overdue-interest"),
            "source": ids["overdue:interest"],
            "destination": "@EnfuceInterestAccrued",
            "allow_overdraft": True,
        },
    )
    # 11 -> 12: repayment split across the outstanding balances.
    split = await post(
        client,
        "/transactions",
        {
            "amount": 2550,
            "precision": 100,
            "currency": "USD",
            "reference": ref("repay"),
            "source": "@World-USD",
            "destinations": [
                {"identifier": ids["overdue:balance"], "distribution": "2500"},
                {"identifier": ids["fees:payable"], "distribution": "30"},
                {"identifier": ids["transaction:interest"], "distribution": "20"},
            ],
            "allow_overdraft": True,
        },
    )
    assert split["status"] == "APPLIED"
    await post(
        client,
        "/transactions",
        {
            "amount": 2500,
            "precision": 100,
            "currency": "USD",
            "reference": ref("settled"),
            "source": "@CustomerRepayments",
            "destination": primary,
            "allow_overdraft": True,
        },
    )
    await post(
        client,
        "/transactions",
        {
            "amount": 20,
            "precision": 100,
            "currency": "USD",
            "reference": ref("overdue-int"),
            "source": primary,
            "destination": ids["overdue:interest"],
            "allow_overdraft": True,
            "overdraft_limit": 5000,
        },
    )

    expected = {
        "card:primary": -2000,
        "fees:payable": 0,
        "transaction:interest": 0,
        "billed:balance": 0,
        "overdue:balance": 0,
        "overdue:interest": 0,
    }
    for name, amount in expected.items():
        assert (await balance(client, ids[name]))["balance"] == amount, name


async def test_balance_monitor_fires_once_when_crossed(ledger_client: httpx.AsyncClient, ledger_pool: object) -> None:
    client = ledger_client
    ledger = await post(client, "/ledgers", {"name": "Monitored"})
    wallet = await post(client, "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    monitor = await post(
        client,
        "/balance-monitors",
        {
            "balance_id": wallet["balance_id"],
            "description": "over 100",
            "condition": {"field": "balance", "operator": ">", "value": 100, "precision": 100},
        },
    )
    for _ in range(3):
        await post(
            client,
            "/transactions",
            {
                "amount": 60,
                "precision": 100,
                "currency": "USD",
                "reference": ref("top"),
                "source": "@World-USD",
                "destination": wallet["balance_id"],
                "allow_overdraft": True,
            },
        )
    async with ledger_pool.acquire() as connection:  # type: ignore[attr-defined]
        fired = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'ledger.balance.monitor_triggered' AND payload->>'monitor_id' = $1",
            monitor["monitor_id"],
        )
    assert fired == 1
    assert (await client.get(f"/balance-monitors/{monitor['monitor_id']}")).json()["triggered"] is True


async def test_reference_replay_and_conflict(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    ledger = await post(client, "/ledgers", {"name": "Replay"})
    wallet = await post(client, "/balances", {"ledger_id": ledger["ledger_id"], "currency": "EUR"})
    body = {
        "amount": 10,
        "currency": "EUR",
        "reference": ref("once"),
        "source": "@World-EUR",
        "destination": wallet["balance_id"],
        "allow_overdraft": True,
    }
    first = await post(client, "/transactions", body)
    again = await client.post("/transactions", json=body)
    assert again.status_code == 200 and again.json()["transaction_id"] == first["transaction_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await client.post("/transactions", json={**body, "amount": 11})
    assert changed.status_code == 409 and changed.json()["code"] == "REFERENCE_REUSED"
    assert (await balance(client, wallet["balance_id"]))["balance"] == 1000


async def test_bad_input_is_a_problem_and_changes_nothing(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    ledger = await post(client, "/ledgers", {"name": "Bad"})
    wallet = await post(client, "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    cases = [
        ({"amount": 1.001, "currency": "USD", "source": "@World-USD"}, 400, "PRECISION_LOSS"),
        ({"amount": -5, "currency": "USD", "source": "@World-USD"}, 400, "VALIDATION_FAILED"),
        ({"amount": 5, "currency": "XXZ", "source": "@World-USD"}, 400, "VALIDATION_FAILED"),
        ({"amount": 5, "currency": "USD", "source": "bln_missing"}, 404, "NOT_FOUND"),
        ({"amount": 5, "currency": "USD", "source": wallet["balance_id"]}, 400, "VALIDATION_FAILED"),
    ]
    for fields, expected_status, expected_code in cases:
        body = {"reference": ref("bad"), "destination": wallet["balance_id"], "allow_overdraft": True, **fields}
        response = await client.post("/transactions", json=body)
        assert response.status_code == expected_status, (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == expected_code, response.text
    unauthenticated = await client.post("/ledgers", json={"name": "x"}, headers={"X-Blnk-Key": "wrong"})
    assert unauthenticated.status_code == 401
    assert (await balance(client, wallet["balance_id"]))["balance"] == 0


async def test_partial_commits_and_void_of_remainder(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    ledger = await post(client, "/ledgers", {"name": "Holds"})
    wallet = await post(client, "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    await post(
        client,
        "/transactions",
        {
            "amount": 100,
            "currency": "USD",
            "reference": ref("fund"),
            "source": "@World-USD",
            "destination": wallet["balance_id"],
            "allow_overdraft": True,
        },
    )
    hold = await post(
        client,
        "/transactions",
        {
            "amount": 80,
            "currency": "USD",
            "reference": ref("hold"),
            "source": wallet["balance_id"],
            "destination": "@Merchant-USD",
            "inflight": True,
        },
    )
    assert (await balance(client, wallet["balance_id"]))["inflight_debit_balance"] == 8000
    too_much = await post(
        client,
        "/transactions",
        {
            "amount": 30,
            "currency": "USD",
            "reference": ref("spend"),
            "source": wallet["balance_id"],
            "destination": "@Merchant-USD",
        },
    )
    assert too_much["status"] == "REJECTED"
    path = f"/transactions/inflight/{hold['transaction_id']}"
    assert (await client.put(path, json={"status": "commit", "amount": 30})).status_code == 200
    assert (await client.put(path, json={"status": "commit", "amount": 20})).status_code == 200
    over = await client.put(path, json={"status": "commit", "amount": 31})
    assert over.status_code == 422 and over.json()["code"] == "HOLD_AMOUNT_EXCEEDED"
    voided = await client.put(path, json={"status": "void"})
    assert voided.status_code == 200 and voided.json()["status"] == "VOID" and voided.json()["precise_amount"] == 3000
    assert (await client.put(path, json={"status": "void"})).status_code == 409
    state = await balance(client, wallet["balance_id"])
    assert state["balance"] == 5000 and state["inflight_debit_balance"] == 0
