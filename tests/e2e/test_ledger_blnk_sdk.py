"""The real Blnk Python SDK (`blnk-python`) drives the running ledger unchanged.

The SDK is written against Blnk Core; this proves a client written against Blnk works against
Clearway's ledger at its HTTP boundary: ledgers, identities, balances, inflight holds with an
overdraft limit, commit, refund, lookups by reference and indicator.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from blnk_sdk import ApiResponse, Blnk, BlnkClientOptions, blnk_init

from clearway.devstack.stack import Platform

pytestmark = pytest.mark.e2e


def ok(response: ApiResponse, *statuses: int) -> Any:
    assert response.status in (statuses or (200, 201)), response.to_dict()
    return response.data


def run_with_sdk(client: Blnk) -> None:
    run = uuid.uuid4().hex[:8]
    ledger = ok(client.ledgers.create({"name": f"SDK ledger {run}"}))
    identity = ok(client.identity.create({"first_name": "Ada", "last_name": "Lovelace", "identity_type": "individual"}))
    card = ok(
        client.ledger_balances.create(
            {
                "ledger_id": ledger["ledger_id"],
                "identity_id": identity["identity_id"],
                "currency": "USD",
                "meta_data": {"type": "card:primary"},
            }
        )
    )
    hold = ok(
        client.transactions.create(
            {
                "amount": 2000,
                "precision": 100,
                "currency": "USD",
                "reference": f"sdk-auth-{run}",
                "source": card["balance_id"],
                "destination": "@World-USD",
                "description": "Card transaction",
                "allow_overdraft": True,
                "overdraft_limit": 5000,
                "inflight": True,
            }
        )
    )
    assert hold["status"] == "INFLIGHT"
    refused = ok(
        client.transactions.create(
            {
                "amount": 3500,
                "precision": 100,
                "currency": "USD",
                "reference": f"sdk-atm-{run}",
                "description": "ATM withdrawal",
                "source": card["balance_id"],
                "destination": "@World-USD",
                "allow_overdraft": True,
                "overdraft_limit": 5000,
                "inflight": True,
            }
        )
    )
    assert refused["status"] == "REJECTED"
    committed = ok(client.transactions.update_status(hold["transaction_id"], {"status": "commit"}))
    assert committed["status"] == "APPLIED"
    fee = ok(
        client.transactions.create(
            {
                "amount": 30,
                "precision": 100,
                "currency": "USD",
                "reference": f"sdk-fee-{run}",
                "description": "1.5% fee",
                "source": card["balance_id"],
                "destination": "@EnfuceFees",
                "allow_overdraft": True,
            }
        )
    )
    refund = ok(client.transactions.refund(fee["transaction_id"]))
    assert refund["status"] == "APPLIED"
    again = client.transactions.refund(fee["transaction_id"])
    assert again.status == 409, again.to_dict()
    balance = ok(client.ledger_balances.get(card["balance_id"]))
    assert balance["balance"] == -200000 and balance["inflight_debit_balance"] == 0
    found = ok(client.transactions.get_by_reference(f"sdk-auth-{run}"))
    assert found["transaction_id"] == hold["transaction_id"]
    world = ok(client.ledger_balances.get_by_indicator("@World-USD", "USD"))
    assert world["balance"] >= 200000


async def test_blnk_python_sdk_against_the_running_ledger(running_platform: Platform) -> None:
    options = BlnkClientOptions(base_url=running_platform.url("ledger"), timeout=10_000, retry_count=0)
    client = blnk_init(running_platform.api_key, options)
    try:
        await asyncio.to_thread(run_with_sdk, client)
    finally:
        client.close()
