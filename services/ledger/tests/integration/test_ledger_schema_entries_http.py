"""Seed 003 (FRAGMENT payment reconciliation) over HTTP: schema entries, reconciliation,
clearing accounts, reversals; and the books they leave behind still satisfy every invariant.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from clearway.contracts.events.ledger import LedgerClearingCleared, LedgerEntryPosted

pytestmark = pytest.mark.integration


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:10]}"


async def call(
    client: httpx.AsyncClient, method: str, path: str, body: Any = None, *, expect: int, code: str | None = None
) -> Any:
    response = await client.request(method, path, json=body)
    assert response.status_code == expect, response.text
    document = response.json()
    if code is not None:
        assert document["code"] == code, document
    return document


async def new_ledger(client: httpx.AsyncClient, *shipped: str) -> str:
    ledger = await call(client, "POST", "/ledgers", {"name": unique("fragment")}, expect=201)
    for key in shipped:
        installed = await call(client, "POST", f"/ledgers/{ledger['ledger_id']}/schema/shipped/{key}", expect=201)
        assert installed["key"] == key and installed["version"] == 1
    return str(ledger["ledger_id"])


async def entry(
    client: httpx.AsyncClient,
    ledger_id: str,
    entry_type: str,
    ik: str,
    expect: int = 201,
    code: str | None = None,
    **parameters: str | int,
) -> Any:
    body = {"type": entry_type, "ik": ik, "parameters": parameters, "currency": "USD"}
    return await call(client, "POST", f"/ledgers/{ledger_id}/entries", body, expect=expect, code=code)


async def reconcile(
    client: httpx.AsyncClient,
    ledger_id: str,
    entry_type: str,
    ik: str,
    external_id: str,
    amount_minor: int,
    expect: int = 201,
    code: str | None = None,
    **parameters: str | int,
) -> Any:
    body = {
        "type": entry_type,
        "ik": ik,
        "parameters": parameters,
        "external_transaction": {
            "id": external_id,
            "amount_minor": amount_minor,
            "currency": "USD",
            "description": "bank feed",
            "bank_reference": "ref-1",
        },
    }
    return await call(client, "POST", f"/ledgers/{ledger_id}/reconcile", body, expect=expect, code=code)


async def accounts(client: httpx.AsyncClient, ledger_id: str, **query: str | int) -> list[dict[str, Any]]:
    response = await client.get(f"/ledgers/{ledger_id}/accounts", params=query)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def own_balances(client: httpx.AsyncClient, ledger_id: str) -> dict[str, int]:
    return {item["path"]: item["own_balance_minor"] for item in await accounts(client, ledger_id, limit=100)}


async def assert_books_balance(pool: asyncpg.Pool) -> None:
    """The ledger's invariants over everything posted, schema entries included."""
    async with pool.acquire() as connection:
        unbalanced = await connection.fetch(
            """SELECT currency, bucket FROM entries GROUP BY currency, bucket
               HAVING SUM(debit_minor) <> SUM(credit_minor)"""
        )
        assert unbalanced == [], unbalanced
        drifted = await connection.fetch(
            """SELECT b.balance_id FROM balances b LEFT JOIN (
                   SELECT balance_id, SUM(credit_minor) FILTER (WHERE bucket = 'applied') AS credit,
                          SUM(debit_minor) FILTER (WHERE bucket = 'applied') AS debit
                   FROM entries GROUP BY balance_id) s USING (balance_id)
               WHERE b.credit_balance <> COALESCE(s.credit, 0) OR b.debit_balance <> COALESCE(s.debit, 0)"""
        )
        assert drifted == [], drifted
        # Assets + expenses == liabilities + income + equity, per ledger and currency.
        equation = await connection.fetch(
            """SELECT ledger_id, currency,
                      SUM(CASE WHEN account_type IN ('asset', 'expense') THEN debit_balance - credit_balance
                               ELSE credit_balance - debit_balance END * CASE WHEN account_type IN ('asset', 'expense')
                               THEN 1 ELSE -1 END) AS difference
               FROM balances WHERE account_path IS NOT NULL GROUP BY ledger_id, currency"""
        )
        assert all(row["difference"] == 0 for row in equation), equation
        # Every entry's transaction moved exactly its lines.
        mismatched = await connection.fetch(
            """SELECT e.ik FROM ledger_entries e JOIN transactions t USING (transaction_id)
               WHERE t.amount_minor <> e.amount_minor OR t.status <> 'APPLIED'"""
        )
        assert mismatched == [], mismatched


async def outbox_payloads(pool: asyncpg.Pool, topic: str) -> list[dict[str, Any]]:
    async with pool.acquire() as connection:
        rows = await connection.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY created_at, id", topic)
    return [row["payload"] for row in rows]


async def test_payment_receipt_reconciles_once(ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client, "payment_receipt")
    await entry(
        client,
        ledger_id,
        "reconcile_payment",
        "top-up-1",
        422,
        "LINKED_ACCOUNT_REQUIRES_RECONCILIATION",
        user_id="usr_1",
        amount="10000",
    )
    posted = await reconcile(
        client, ledger_id, "reconcile_payment", "top-up-1", "bank_tx_1", 10000, user_id="usr_1", amount="10000"
    )
    assert posted["status"] == "posted" and posted["external_transaction_id"] == "bank_tx_1"
    assert {line["account_path"]: line["amount_minor"] for line in posted["lines"]} == {
        "assets/operating": 10000,
        "liabilities/user_balances:usr_1": 10000,
    }
    # The same request again answers with the original.
    response = await client.post(
        f"/ledgers/{ledger_id}/reconcile",
        json={
            "type": "reconcile_payment",
            "ik": "top-up-1",
            "parameters": {"user_id": "usr_1", "amount": "10000"},
            "external_transaction": {
                "id": "bank_tx_1",
                "amount_minor": 10000,
                "currency": "USD",
                "description": "bank feed",
                "bank_reference": "ref-1",
            },
        },
    )
    assert response.status_code == 200 and response.headers["Idempotent-Replayed"] == "true"
    assert response.json()["id"] == posted["id"]
    # One external transaction reconciles once, whatever the ik.
    await reconcile(
        client,
        ledger_id,
        "reconcile_payment",
        "top-up-2",
        "bank_tx_1",
        10000,
        409,
        "EXTERNAL_TRANSACTION_ALREADY_RECONCILED",
        user_id="usr_2",
        amount="10000",
    )
    await reconcile(
        client,
        ledger_id,
        "reconcile_payment",
        "top-up-3",
        "bank_tx_3",
        9999,
        422,
        "RECONCILIATION_AMOUNT_MISMATCH",
        user_id="usr_2",
        amount="10000",
    )
    assert await own_balances(client, ledger_id) == {
        "assets/operating": 10000,
        "liabilities/user_balances:usr_1": 10000,
    }

    # The entry is an ordinary ledger transaction too, but only undone through the schema.
    transaction = await call(client, "GET", f"/transactions/{posted['transaction_id']}", expect=200)
    assert transaction["status"] == "APPLIED" and transaction["reference"] == f"entry:{ledger_id}:top-up-1"
    assert transaction["meta_data"]["ledger_entry"]["external_transaction"]["bank_reference"] == "ref-1"
    await call(client, "POST", f"/refund-transaction/{posted['transaction_id']}", expect=409)
    await call(
        client,
        "POST",
        f"/ledgers/{ledger_id}/entries/top-up-1/reverse",
        expect=422,
        code="LINKED_ACCOUNT_REQUIRES_RECONCILIATION",
    )
    fetched = await call(client, "GET", f"/ledgers/{ledger_id}/entries/top-up-1", expect=200)
    assert fetched == posted

    events = [
        LedgerEntryPosted.model_validate(payload)
        for payload in await outbox_payloads(ledger_pool, "ledger.entry.posted")
    ]
    assert [(event.ledger_id, event.ik, event.entry_type) for event in events] == [
        (ledger_id, "top-up-1", "reconcile_payment")
    ]
    await assert_books_balance(ledger_pool)


async def test_bulk_split_until_cleared(ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client, "bulk_split")
    await reconcile(
        client, ledger_id, "received_bulk_payment", "bulk-1", "bank_bulk_1", 9000, amount="9000", currency="USD"
    )
    pending = await accounts(client, ledger_id, clearing_status="pending", path="liabilities/*")
    assert [(item["path"], item["own_balance_minor"], item["clearing_status"]) for item in pending] == [
        ("liabilities/bulk_receivables", 9000, "pending")
    ]
    for number in (1, 2):
        await entry(client, ledger_id, "split_bulk_payment", f"split-{number}", user_id=f"usr_{number}", amount=3000)
    # Splitting more than is left would take the clearing account below zero: refused, nothing written.
    await entry(
        client,
        ledger_id,
        "split_bulk_payment",
        "split-3",
        422,
        "BALANCE_CONDITION_VIOLATED",
        user_id="usr_3",
        amount=4000,
    )
    await entry(client, ledger_id, "split_bulk_payment", "split-3", user_id="usr_3", amount=3000)
    # ik replay returns the original; the same ik with other parameters is refused.
    replay = await client.post(
        f"/ledgers/{ledger_id}/entries",
        json={
            "type": "split_bulk_payment",
            "ik": "split-3",
            "parameters": {"user_id": "usr_3", "amount": 3000},
            "currency": "USD",
        },
    )
    assert replay.status_code == 200 and replay.json()["ik"] == "split-3"
    await entry(client, ledger_id, "split_bulk_payment", "split-3", 409, "IK_REUSED", user_id="usr_3", amount=1)

    assert await accounts(client, ledger_id, clearing_status="pending") == []
    cleared = await accounts(client, ledger_id, clearing_status="cleared")
    assert [(item["path"], item["clearing_status"]) for item in cleared] == [
        ("liabilities/bulk_receivables", "cleared")
    ]
    users = await accounts(client, ledger_id, path="liabilities/user_balances:*", limit=2)
    page = await client.get(
        f"/ledgers/{ledger_id}/accounts", params={"path": "liabilities/user_balances:*", "limit": 2}
    )
    assert page.json()["has_more"] is True
    rest = await client.get(
        f"/ledgers/{ledger_id}/accounts",
        params={"path": "liabilities/user_balances:*", "limit": 2, "starting_after": users[-1]["id"]},
    )
    everyone = users + rest.json()["data"]
    assert rest.json()["has_more"] is False
    assert sorted((item["path"], item["own_balance_minor"]) for item in everyone) == [
        (f"liabilities/user_balances:usr_{number}", 3000) for number in (1, 2, 3)
    ]
    assert all(item["flags"] == {"linked": False, "clearing": False, "template": True} for item in everyone)
    await call(client, "GET", f"/ledgers/{ledger_id}/accounts?path=assets/[x", expect=400, code="INVALID_PATH_PATTERN")

    cleared_events = [
        LedgerClearingCleared.model_validate(payload)
        for payload in await outbox_payloads(ledger_pool, "ledger.clearing.cleared")
    ]
    assert [(event.account_path, event.entry_ik) for event in cleared_events] == [
        ("liabilities/bulk_receivables", "split-3")
    ]
    await assert_books_balance(ledger_pool)


async def test_initiate_settle_with_reversal(ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client, "payment_receipt", "initiate_settle")
    await reconcile(client, ledger_id, "reconcile_payment", "top-up", "bank_in_1", 10000, user_id="usr_1", amount=10000)
    await entry(client, ledger_id, "initiate_payment", "init-w1", withdrawal_id="wd_1", user_id="usr_1", amount=4000)
    await entry(
        client,
        ledger_id,
        "initiate_payment",
        "init-w2",
        422,
        "BALANCE_CONDITION_VIOLATED",
        withdrawal_id="wd_2",
        user_id="usr_1",
        amount=7000,
    )
    await entry(client, ledger_id, "initiate_payment", "init-w2", withdrawal_id="wd_2", user_id="usr_1", amount=2000)
    pending = await accounts(client, ledger_id, clearing_status="pending", path="liabilities/pending_withdrawals:*")
    assert sorted(item["path"] for item in pending) == [
        "liabilities/pending_withdrawals:wd_1",
        "liabilities/pending_withdrawals:wd_2",
    ]

    # Cancelled before settlement: reverse the initiation (once; a second call replays it).
    reversed_entry = await call(client, "POST", f"/ledgers/{ledger_id}/entries/init-w2/reverse", expect=201)
    assert reversed_entry["status"] == "reversed" and reversed_entry["reversed_by"]
    again = await client.post(f"/ledgers/{ledger_id}/entries/init-w2/reverse")
    assert again.status_code == 200 and again.json()["reversed_by"] == reversed_entry["reversed_by"]
    reversal = await call(client, "GET", f"/transactions/{reversed_entry['reversed_by']}", expect=200)
    assert reversal["parent_transaction"] == reversed_entry["transaction_id"]

    # Settlement moves cash, so only reconciliation posts it (the bank shows money out: negative).
    await entry(
        client,
        ledger_id,
        "settle_payment",
        "settle-w1",
        422,
        "LINKED_ACCOUNT_REQUIRES_RECONCILIATION",
        withdrawal_id="wd_1",
        amount=4000,
    )
    await reconcile(
        client, ledger_id, "settle_payment", "settle-w1", "bank_out_1", -4000, withdrawal_id="wd_1", amount=4000
    )
    assert await accounts(client, ledger_id, clearing_status="pending", path="liabilities/pending_withdrawals:*") == []
    assert (
        len(await accounts(client, ledger_id, clearing_status="cleared", path="liabilities/pending_withdrawals:*")) == 2
    )
    assert await own_balances(client, ledger_id) == {
        "assets/operating": 6000,
        "liabilities/user_balances:usr_1": 6000,
        "liabilities/pending_withdrawals:wd_1": 0,
        "liabilities/pending_withdrawals:wd_2": 0,
    }
    cleared = [payload["entry_ik"] for payload in await outbox_payloads(ledger_pool, "ledger.clearing.cleared")]
    assert cleared == ["init-w2:reversal", "settle-w1"]
    await assert_books_balance(ledger_pool)


async def test_batch_prepare_settle(ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client, "payment_receipt", "batch_settle", "initiate_settle")
    await reconcile(client, ledger_id, "reconcile_payment", "top-up", "bank_in_1", 10000, user_id="usr_1", amount=10000)
    # Two schemas define initiate_payment: name the one meant.
    await entry(
        client,
        ledger_id,
        "initiate_payment",
        "init-p1",
        422,
        "AMBIGUOUS_ENTRY_TYPE",
        payment_id="pay_1",
        user_id="usr_1",
        amount=3000,
    )
    for payment, amount in (("pay_1", 3000), ("pay_2", 2000)):
        await entry(
            client,
            ledger_id,
            "batch_settle.initiate_payment",
            f"init-{payment}",
            payment_id=payment,
            user_id="usr_1",
            amount=amount,
        )
        await entry(
            client, ledger_id, "prepare_batch", f"prep-{payment}", payment_id=payment, batch_id="bat_1", amount=amount
        )
    assert await accounts(client, ledger_id, clearing_status="pending", path="liabilities/pending_payments:*") == []
    batches = await accounts(client, ledger_id, clearing_status="pending", path="liabilities/pending_batches:*")
    assert [(item["path"], item["own_balance_minor"]) for item in batches] == [
        ("liabilities/pending_batches:bat_1", 5000)
    ]
    await reconcile(
        client, ledger_id, "settle_batch", "settle-bat_1", "bank_out_1", -5000, batch_id="bat_1", amount=5000
    )
    assert await accounts(client, ledger_id, clearing_status="pending") == []
    balances = await own_balances(client, ledger_id)
    assert balances["assets/operating"] == 5000 and balances["liabilities/user_balances:usr_1"] == 5000
    await assert_books_balance(ledger_pool)


async def test_schema_and_entry_errors(ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client)
    await entry(client, ledger_id, "reconcile_payment", "e-1", 422, "LEDGER_HAS_NO_SCHEMA", user_id="u", amount=1)
    await call(
        client,
        "PUT",
        f"/ledgers/{ledger_id}/schema",
        {"key": "bad", "version": 1, "accounts": []},
        expect=400,
        code="SCHEMA_INVALID",
    )
    await call(client, "PUT", "/ledgers/ldg_missing/schema", CUSTOM, expect=404)
    stored = await call(client, "PUT", f"/ledgers/{ledger_id}/schema", CUSTOM, expect=201)
    assert stored["version"] == 1 and stored["schema"]["key"] == "custom"
    await call(client, "PUT", f"/ledgers/{ledger_id}/schema", CUSTOM, expect=200)
    await call(
        client,
        "PUT",
        f"/ledgers/{ledger_id}/schema",
        {**CUSTOM, "entry_types": []},
        expect=409,
        code="SCHEMA_VERSION_CONFLICT",
    )

    await entry(client, ledger_id, "no_such_type", "e-1", 422, "UNKNOWN_ENTRY_TYPE")
    await entry(client, ledger_id, "skewed", "e-1", 400, "MISSING_ENTRY_PARAMETER", cash=5)
    await entry(client, ledger_id, "skewed", "e-1", 400, "INVALID_ENTRY_PARAMETER", cash="five", owed=5)
    await entry(client, ledger_id, "skewed", "e-1", 422, "UNBALANCED_ENTRY", cash=5, owed=4)
    response = await client.post(
        f"/ledgers/{ledger_id}/entries", json={"type": "skewed", "ik": "e-1", "parameters": {"cash": 5, "owed": 5}}
    )
    assert response.status_code == 400 and response.json()["code"] == "CURRENCY_REQUIRED"
    await call(
        client, "POST", f"/ledgers/{ledger_id}/entries", {"type": "skewed"}, expect=400, code="VALIDATION_FAILED"
    )
    posted = await entry(client, ledger_id, "skewed", "e-1", cash=5, owed=5)
    assert posted["amount_minor"] == 5
    await call(client, "GET", f"/ledgers/{ledger_id}/entries/nope", expect=404)

    # Accounts exist now: a new version may add entry types but not re-flag them.
    reflagged = {
        **CUSTOM,
        "version": 2,
        "accounts": [
            {"path": "assets/cash", "type": "asset"},
            {"path": "liabilities/owed", "type": "liability", "flags": {"clearing": True}},
        ],
    }
    await call(client, "PUT", f"/ledgers/{ledger_id}/schema", reflagged, expect=409, code="ACCOUNT_CHANGE_REFUSED")
    await call(client, "PUT", f"/ledgers/{ledger_id}/schema", {**CUSTOM, "version": 2}, expect=201)
    await call(client, "PUT", f"/ledgers/{ledger_id}/schema", CUSTOM, expect=200)  # v1 unchanged: fine
    latest = await call(client, "GET", f"/ledgers/{ledger_id}/schema", expect=200)
    assert [(item["key"], item["version"]) for item in latest["data"]] == [("custom", 2)]
    first = await call(client, "GET", f"/ledgers/{ledger_id}/schema?key=custom&version=1", expect=200)
    assert first["data"][0]["version"] == 1
    shipped = await call(client, "GET", "/schemas/shipped", expect=200)
    assert {"payment_receipt", "bulk_split", "initiate_settle", "batch_settle"} <= {
        item["key"] for item in shipped["data"]
    }
    await call(client, "POST", f"/ledgers/{ledger_id}/schema/shipped/nope", expect=404)
    await assert_books_balance(ledger_pool)


CUSTOM: dict[str, Any] = {
    "key": "custom",
    "version": 1,
    "accounts": [{"path": "assets/cash", "type": "asset"}, {"path": "liabilities/owed", "type": "liability"}],
    "entry_types": [
        {
            "type": "skewed",
            "lines": [
                {"account": "assets/cash", "amount": "{{cash}}"},
                {"account": "liabilities/owed", "amount": "{{owed}}"},
            ],
        }
    ],
}


async def test_concurrent_splits_never_overdraw_clearing(
    ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool
) -> None:
    client = ledger_client
    ledger_id = await new_ledger(client, "bulk_split")
    await reconcile(client, ledger_id, "received_bulk_payment", "bulk", "bank_bulk", 1000, amount=1000, currency="USD")

    async def split(number: int) -> int:
        body = {
            "type": "split_bulk_payment",
            "ik": f"split-{number}",
            "parameters": {"user_id": f"usr_{number % 3}", "amount": 100},
            "currency": "USD",
        }
        return (await client.post(f"/ledgers/{ledger_id}/entries", json=body)).status_code

    # 15 distinct splits of 100 race for 1000, plus duplicates of the first five iks.
    statuses = await asyncio.gather(*(split(number) for number in [*range(15), *range(5)]))
    # A duplicate of a refused ik is a fresh attempt, so only the totals are fixed: 10 splits fit.
    assert set(statuses) <= {200, 201, 422} and statuses.count(201) == 10, statuses
    async with ledger_pool.acquire() as connection:
        posted = await connection.fetchval("SELECT count(*) FROM ledger_entries WHERE ledger_id = $1", ledger_id)
    assert posted == 1 + 10
    cleared = await accounts(client, ledger_id, path="liabilities/bulk_receivables")
    assert cleared[0]["own_balance_minor"] == 0 and cleared[0]["clearing_status"] == "cleared"
    assert sum((await own_balances(client, ledger_id)).values()) == 1000 + 0 + 1000
    await assert_books_balance(ledger_pool)
