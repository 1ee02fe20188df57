"""Ledger over HTTP (in-process app, real PostgreSQL and Kafka): the seed 002 flow and the API's edges."""

from __future__ import annotations

import httpx

from clearway.devstack.scenarios.seed_charge_card import balance, post, ref, run_seed_002


async def test_seed_002_charge_card_flow(ledger_client: httpx.AsyncClient) -> None:
    await run_seed_002(ledger_client)


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
