"""Seed 002 (a charge card on the Blnk API), step by step, as a client of the ledger.

Used by the ledger's integration test (in-process app), the end-to-end test (the running
process) and `make demo`. Each step is the seed's curl call; the assertions are the balances and
statuses the seed describes.
"""

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
    document: dict[str, Any] = response.json()
    return document


async def run_seed_002(client: httpx.AsyncClient) -> dict[str, str]:
    """Run the whole seed; returns the six balance ids by name."""
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
    return ids
