"""Bulk (atomic and not), scheduled transactions, hold expiry and historical balances, over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from clearway.devstack.scenarios.seed_charge_card import balance, post, ref
from clearway.devstack.testing import wait_until

SWEEP_WAIT_S_MAX = 10.0


async def funded_wallet(client: httpx.AsyncClient, amount: int) -> str:
    ledger = await post(client, "/ledgers", {"name": "bulk"})
    wallet = await post(client, "/balances", {"ledger_id": ledger["ledger_id"], "currency": "USD"})
    await post(
        client,
        "/transactions",
        {
            "amount": amount,
            "currency": "USD",
            "reference": ref("fund"),
            "source": "@World-USD",
            "destination": wallet["balance_id"],
            "allow_overdraft": True,
        },
    )
    return str(wallet["balance_id"])


def spend(source: str, amount: float) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "USD",
        "reference": ref("spend"),
        "source": source,
        "destination": "@Shop-USD",
    }


async def test_bulk_non_atomic_applies_what_it_can(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 100)
    result = await post(
        ledger_client,
        "/transactions/bulk",
        {"atomic": False, "transactions": [spend(wallet, 60), spend(wallet, 60), spend(wallet, 30)]},
    )
    assert result["transaction_count"] == 3 and result["failed_count"] == 1
    assert [t["status"] for t in result["transactions"]] == ["APPLIED", "REJECTED", "APPLIED"]
    assert (await balance(ledger_client, wallet))["balance"] == 1000


async def test_bulk_atomic_applies_all_or_nothing(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 100)
    refused = await ledger_client.post(
        "/transactions/bulk", json={"atomic": True, "transactions": [spend(wallet, 60), spend(wallet, 60)]}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["failures"][0]["index"] == 1
    assert (await balance(ledger_client, wallet))["balance"] == 10000
    applied = await post(
        ledger_client, "/transactions/bulk", {"atomic": True, "transactions": [spend(wallet, 60), spend(wallet, 40)]}
    )
    assert applied["failed_count"] == 0
    assert (await balance(ledger_client, wallet))["balance"] == 0


async def test_atomic_bulk_with_balances_answers_the_balances_it_left(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 100)
    hold, payment = {**spend(wallet, 60), "inflight": True}, spend(wallet, 15)
    applied = await post(
        ledger_client,
        "/transactions/bulk",
        {"atomic": True, "include_balances": True, "transactions": [hold, payment]},
    )
    after = {item["balance_id"]: item for item in applied["balances"]}
    assert after[wallet]["balance"] == 8500 and after[wallet]["inflight_debit_balance"] == 6000
    stored = await balance(ledger_client, wallet)
    assert (stored["balance"], stored["inflight_debit_balance"]) == (8500, 6000)
    # Refused as a whole: nothing applied, and the balances as they stand (not as the refused
    # postings would have left them).
    refused = await ledger_client.post(
        "/transactions/bulk",
        json={"atomic": True, "include_balances": True, "transactions": [spend(wallet, 20), spend(wallet, 20)]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["failures"][0]["index"] == 1
    standing = {item["balance_id"]: item for item in refused.json()["balances"]}
    assert standing[wallet]["balance"] == 8500 and standing[wallet]["inflight_debit_balance"] == 6000
    assert (await balance(ledger_client, wallet))["balance"] == 8500
    # Asked again, the applied bulk is a replay: no second hold; balances only replays touched are absent.
    again = await post(
        ledger_client,
        "/transactions/bulk",
        {"atomic": True, "include_balances": True, "transactions": [hold, payment]},
    )
    assert [item["transaction_id"] for item in again["transactions"]] == [
        item["transaction_id"] for item in applied["transactions"]
    ]
    assert wallet not in {item["balance_id"] for item in again["balances"]}
    assert (await balance(ledger_client, wallet))["inflight_debit_balance"] == 6000


async def test_a_hold_is_voided_in_part_then_committed_and_never_beyond_what_it_holds(
    ledger_client: httpx.AsyncClient,
) -> None:
    wallet = await funded_wallet(ledger_client, 100)
    hold = await post(ledger_client, "/transactions", {**spend(wallet, 60), "inflight": True})
    path = f"/transactions/inflight/{hold['transaction_id']}"
    voided = await ledger_client.put(path, json={"status": "void", "precise_amount": 2500, "reference": ref("v")})
    assert voided.status_code == 200 and voided.json()["status"] == "VOID", voided.text
    assert voided.json()["precise_amount"] == 2500
    state = await balance(ledger_client, wallet)
    assert (state["balance"], state["inflight_debit_balance"]) == (10000, 3500)
    too_much = await ledger_client.put(path, json={"status": "void", "precise_amount": 3501})
    assert too_much.status_code == 422 and too_much.json()["code"] == "HOLD_AMOUNT_EXCEEDED", too_much.text
    committed = await ledger_client.put(path, json={"status": "commit", "reference": ref("c")})
    assert committed.json()["precise_amount"] == 3500
    state = await balance(ledger_client, wallet)
    assert (state["balance"], state["inflight_debit_balance"]) == (6500, 0)


async def test_balances_are_answered_only_for_an_atomic_bulk(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 10)
    refused = await ledger_client.post(
        "/transactions/bulk", json={"include_balances": True, "transactions": [spend(wallet, 1)]}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_FAILED", refused.text
    assert (await balance(ledger_client, wallet))["balance"] == 1000


async def test_scheduled_transaction_applies_when_due(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 10)
    due = datetime.now(UTC) + timedelta(seconds=1)
    scheduled = await post(ledger_client, "/transactions", {**spend(wallet, 4), "scheduled_for": due.isoformat()})
    assert scheduled["status"] == "SCHEDULED"
    assert (await balance(ledger_client, wallet))["balance"] == 1000

    async def applied() -> bool:
        return bool((await balance(ledger_client, wallet))["balance"] == 600)

    await wait_until(applied, "the scheduled transaction is applied", timeout_s=SWEEP_WAIT_S_MAX)
    children = await ledger_client.get("/transactions", params={"parent_transaction": scheduled["transaction_id"]})
    assert [child["status"] for child in children.json()] == ["APPLIED"]


async def test_expired_hold_is_voided_and_cannot_be_committed(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 10)
    expiry = datetime.now(UTC) + timedelta(milliseconds=500)
    hold = await post(
        ledger_client,
        "/transactions",
        {**spend(wallet, 7), "inflight": True, "inflight_expiry_date": expiry.isoformat()},
    )
    assert (await balance(ledger_client, wallet))["inflight_debit_balance"] == 700

    async def released() -> bool:
        return bool((await balance(ledger_client, wallet))["inflight_debit_balance"] == 0)

    await wait_until(released, "the expired hold is released", timeout_s=SWEEP_WAIT_S_MAX)
    commit = await ledger_client.put(f"/transactions/inflight/{hold['transaction_id']}", json={"status": "commit"})
    assert commit.status_code == 409, commit.text
    state = await balance(ledger_client, wallet)
    assert state["balance"] == 1000 and state["inflight_debit_balance"] == 0


async def test_historical_balance_is_recomputed_from_entries(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 10)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await post(ledger_client, "/transactions", spend(wallet, 3))
    then = (await ledger_client.get(f"/balances/{wallet}/at", params={"timestamp": between.isoformat()})).json()
    now = await balance(ledger_client, wallet)
    assert then["balance"] == 1000 and now["balance"] == 700


async def test_transactions_can_be_listed_and_searched_by_status(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 1)
    rejected = await post(ledger_client, "/transactions", spend(wallet, 5))
    listed = (await ledger_client.get("/transactions", params={"source": wallet, "status": "REJECTED"})).json()
    assert [t["transaction_id"] for t in listed] == [rejected["transaction_id"]]
    found = await post(
        ledger_client,
        "/search/transactions",
        {"q": wallet, "query_by": "source", "filter_by": "status:REJECTED"},
        expect=200,
    )
    assert found["found"] == 1 and found["hits"][0]["document"]["rejection_reason"]


async def test_atomic_bulk_with_a_replayed_rejection_applies_and_says_so(ledger_client: httpx.AsyncClient) -> None:
    wallet = await funded_wallet(ledger_client, 10)
    too_much = spend(wallet, 50)
    assert (await post(ledger_client, "/transactions", too_much))["status"] == "REJECTED"
    # The same reference again is a replay of that answer, not a new refusal: the batch commits.
    result = await post(
        ledger_client, "/transactions/bulk", {"atomic": True, "transactions": [too_much, spend(wallet, 4)]}
    )
    assert result["failed_count"] == 0
    assert [t["status"] for t in result["transactions"]] == ["REJECTED", "APPLIED"]
    assert (await balance(ledger_client, wallet))["balance"] == 600
