"""The shipped `reconciliation` schema: every seed 003 flow on one fresh ledger, over HTTP.

Received payments (single and bulk), two-phase and batched sends with their cancellations, the
bank reversing a settled batch, and network card settlement in three levels; the clearing
accounts are watched the way seed 003's queries watch them (`clearing_status` plus `path`).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration

PENDING_WITHDRAWALS = "liabilities/pending_withdrawals:*"


class Books:
    """One ledger carrying the `reconciliation` schema, and the calls a reconciler makes on it."""

    def __init__(self, client: httpx.AsyncClient, ledger_id: str) -> None:
        self.client = client
        self.ledger_id = ledger_id
        self.bank_minor = 0  # what the bank account saw: the sum of external transactions

    async def call(self, method: str, path: str, body: Any = None, *, expect: int, code: str | None = None) -> Any:
        response = await self.client.request(method, f"/ledgers/{self.ledger_id}{path}", json=body)
        assert response.status_code == expect, response.text
        document = response.json()
        if code is not None:
            assert document["code"] == code, document
        return document

    async def entry(
        self, entry_type: str, ik: str, *, expect: int = 201, code: str | None = None, **parameters: str | int
    ) -> Any:
        body = {"type": entry_type, "ik": ik, "parameters": parameters, "currency": "KES"}
        return await self.call("POST", "/entries", body, expect=expect, code=code)

    async def reconcile(
        self,
        entry_type: str,
        ik: str,
        external_id: str,
        amount_minor: int,
        *,
        expect: int = 201,
        code: str | None = None,
        **parameters: str | int,
    ) -> Any:
        body = {
            "type": entry_type,
            "ik": ik,
            "parameters": parameters,
            "external_transaction": {"id": external_id, "amount_minor": amount_minor, "currency": "KES"},
        }
        document = await self.call("POST", "/reconcile", body, expect=expect, code=code)
        if expect == 201:
            self.bank_minor += amount_minor
        return document

    async def reverse(self, ik: str, *, expect: int = 201, code: str | None = None) -> Any:
        return await self.call("POST", f"/entries/{ik}/reverse", expect=expect, code=code)

    async def accounts(self, **query: str | int) -> list[dict[str, Any]]:
        response = await self.client.get(f"/ledgers/{self.ledger_id}/accounts", params={"limit": 100, **query})
        assert response.status_code == 200, response.text
        assert response.json()["has_more"] is False
        return list(response.json()["data"])

    async def pending(self, path: str) -> dict[str, int]:
        """Seed 003's query: clearing accounts with `clearingStatus: pending` whose path matches."""
        found = await self.accounts(clearing_status="pending", path=path)
        assert all(item["clearing_status"] == "pending" and item["flags"]["clearing"] for item in found)
        return {item["path"]: item["own_balance_minor"] for item in found}

    async def cleared(self, path: str) -> set[str]:
        found = await self.accounts(clearing_status="cleared", path=path)
        assert all(item["clearing_status"] == "cleared" and item["own_balance_minor"] == 0 for item in found)
        return {item["path"] for item in found}

    async def balances(self) -> dict[str, int]:
        return {item["path"]: item["own_balance_minor"] for item in await self.accounts()}


@pytest.fixture
async def books(ledger_client: httpx.AsyncClient) -> Books:
    ik = f"recon-{uuid.uuid4().hex[:10]}"
    created = await ledger_client.post("/ledgers", json={"name": "Reconciliation", "ik": ik})
    assert created.status_code == 201, created.text
    ledger_id = created.json()["ledger_id"]
    installed = await ledger_client.post(f"/ledgers/{ledger_id}/schema/shipped/reconciliation")
    assert installed.status_code == 201, installed.text
    assert installed.json()["key"] == "reconciliation" and installed.json()["version"] == 1
    again = await ledger_client.post(f"/ledgers/{ledger_id}/schema/shipped/reconciliation")
    assert again.status_code == 200, again.text
    return Books(ledger_client, ledger_id)


async def test_payments_received_single_and_bulk(books: Books, ledger_pool: asyncpg.Pool) -> None:
    # A single-purpose payment: reconciled straight to the user; never posted without the bank's record.
    await books.entry(
        "reconcile_payment",
        "topup-1",
        expect=422,
        code="LINKED_ACCOUNT_REQUIRES_RECONCILIATION",
        user_id="u1",
        amount=10_000,
    )
    await books.reconcile("reconcile_payment", "topup-1", "bank-in-1", 10_000, user_id="u1", amount=10_000)

    # A bulk payment for three users waits in the clearing account until every item is split off.
    await books.reconcile("received_bulk_payment", "bulk-1", "bank-in-2", 9_000, amount=9_000)
    assert await books.pending("liabilities/bulk_receivables") == {"liabilities/bulk_receivables": 9_000}
    for number, (user_id, amount) in enumerate((("u1", 3_000), ("u2", 2_500), ("u3", 3_500)), start=1):
        if number == 3:
            await books.entry(
                "split_bulk_payment",
                "bulk-1:split:3",
                expect=422,
                code="BALANCE_CONDITION_VIOLATED",
                user_id=user_id,
                amount=amount + 1,
            )
        await books.entry("split_bulk_payment", f"bulk-1:split:{number}", user_id=user_id, amount=amount)
    assert await books.pending("liabilities/bulk_receivables") == {}
    assert await books.cleared("liabilities/bulk_receivables") == {"liabilities/bulk_receivables"}

    assert await books.balances() == {
        "assets/operating": 19_000,
        "liabilities/user_balances:u1": 13_000,
        "liabilities/bulk_receivables": 0,
        "liabilities/user_balances:u2": 2_500,
        "liabilities/user_balances:u3": 3_500,
    }
    await assert_books_balance(ledger_pool, books)


async def test_two_phase_send_and_its_reversal_after_settlement(books: Books, ledger_pool: asyncpg.Pool) -> None:
    await books.reconcile("reconcile_payment", "topup-1", "bank-in-1", 10_000, user_id="u1", amount=10_000)
    await books.entry(
        "initiate_payment",
        "init-p1",
        expect=422,
        code="BALANCE_CONDITION_VIOLATED",
        user_id="u1",
        payment_id="p1",
        amount=10_001,
    )
    await books.entry("initiate_payment", "init-p1", user_id="u1", payment_id="p1", amount=4_000)
    await books.entry("initiate_payment", "init-p2", user_id="u1", payment_id="p2", amount=1_000)
    assert await books.pending(PENDING_WITHDRAWALS) == {
        "liabilities/pending_withdrawals:p1": 4_000,
        "liabilities/pending_withdrawals:p2": 1_000,
    }

    # p2 is cancelled before settlement: its initiation is reversed.
    await books.reverse("init-p2")
    await books.entry(
        "settle_payment",
        "settle-p1",
        expect=422,
        code="LINKED_ACCOUNT_REQUIRES_RECONCILIATION",
        payment_id="p1",
        amount=4_000,
    )
    await books.reconcile("settle_payment", "settle-p1", "bank-out-1", -4_000, payment_id="p1", amount=4_000)
    assert await books.pending(PENDING_WITHDRAWALS) == {}
    assert await books.cleared(PENDING_WITHDRAWALS) == {
        "liabilities/pending_withdrawals:p1",
        "liabilities/pending_withdrawals:p2",
    }

    # The bank returns p1 after settlement. A settlement moved cash, so it is not reversed in the
    # ledger alone: the bank's reversal is reconciled with the same type and opposite amounts.
    await books.reverse("settle-p1", expect=422, code="LINKED_ACCOUNT_REQUIRES_RECONCILIATION")
    await books.reconcile("settle_payment", "settle-p1:returned", "bank-in-3", 4_000, payment_id="p1", amount=-4_000)
    assert await books.pending(PENDING_WITHDRAWALS) == {"liabilities/pending_withdrawals:p1": 4_000}
    # The payment is refunded to the user (or sent again): either way its clearing account clears.
    await books.reverse("init-p1")
    assert await books.pending(PENDING_WITHDRAWALS) == {}
    assert await books.balances() == {
        "assets/operating": 10_000,
        "liabilities/user_balances:u1": 10_000,
        "liabilities/pending_withdrawals:p1": 0,
        "liabilities/pending_withdrawals:p2": 0,
    }
    await assert_books_balance(ledger_pool, books)


async def test_batch_send_cancellations_and_reversal_after_settlement(books: Books, ledger_pool: asyncpg.Pool) -> None:
    await books.reconcile("received_bulk_payment", "bulk-1", "bank-in-1", 6_000, amount=6_000)
    for number, user_id in enumerate(("u1", "u2", "u3"), start=1):
        await books.entry("split_bulk_payment", f"bulk-1:split:{number}", user_id=user_id, amount=2_000)
    payments = {"p1": ("u1", 1_000), "p2": ("u2", 1_500), "p3": ("u3", 700), "p4": ("u1", 500)}
    for payment_id, (user_id, amount) in payments.items():
        await books.entry(
            "initiate_payment", f"init-{payment_id}", user_id=user_id, payment_id=payment_id, amount=amount
        )
    assert set(await books.pending(PENDING_WITHDRAWALS)) == {
        f"liabilities/pending_withdrawals:p{n}" for n in range(1, 5)
    }

    # p4 is cancelled before it joins a batch: reverse its initiation.
    await books.reverse("init-p4")
    for payment_id in ("p1", "p2", "p3"):
        amount = payments[payment_id][1]
        await books.entry("prepare_batch", f"prep-{payment_id}", payment_id=payment_id, batch_id="b1", amount=amount)
    assert await books.pending(PENDING_WITHDRAWALS) == {}
    assert await books.pending("liabilities/pending_batches:*") == {"liabilities/pending_batches:b1": 3_200}

    # p3 is cancelled after joining the batch but before settlement: reverse both of its entries.
    await books.reverse("prep-p3")
    await books.reverse("init-p3")
    assert await books.pending("liabilities/pending_batches:*") == {"liabilities/pending_batches:b1": 2_500}
    assert await books.pending(PENDING_WITHDRAWALS) == {}

    await books.reconcile("settle_batch", "settle-b1", "bank-out-1", -2_500, batch_id="b1", amount=2_500)
    assert await books.pending("liabilities/*") == {}

    # The bank reverses the settled batch: reconcile its reversal with opposite amounts (the batch is
    # pending again), then undo the batching so the payment clearing accounts are pending again.
    await books.reconcile("settle_batch", "settle-b1:returned", "bank-in-2", 2_500, batch_id="b1", amount=-2_500)
    assert await books.pending("liabilities/pending_batches:*") == {"liabilities/pending_batches:b1": 2_500}
    await books.reverse("prep-p1")
    await books.reverse("prep-p2")
    assert await books.pending("liabilities/pending_batches:*") == {}
    assert await books.pending(PENDING_WITHDRAWALS) == {
        "liabilities/pending_withdrawals:p1": 1_000,
        "liabilities/pending_withdrawals:p2": 1_500,
    }
    # Refunding them to their users clears the payment clearing accounts for good.
    await books.reverse("init-p1")
    await books.reverse("init-p2")
    assert await books.pending("liabilities/*") == {}
    balances = await books.balances()
    assert {path: value for path, value in balances.items() if value} == {
        "assets/operating": 6_000,
        "liabilities/user_balances:u1": 2_000,
        "liabilities/user_balances:u2": 2_000,
        "liabilities/user_balances:u3": 2_000,
    }
    await assert_books_balance(ledger_pool, books)


async def test_card_settlement_in_three_levels(books: Books, ledger_pool: asyncpg.Pool) -> None:
    # The day's settlement file: one payment for two clearings.
    await books.reconcile("received_card_settlement", "stl-d1", "bank-in-1", 10_000, settlement_id="d1", amount=10_000)
    assert await books.pending("liabilities/pending_settlements:*") == {"liabilities/pending_settlements:d1": 10_000}
    await books.entry("split_card_settlement", "stl-d1:c1", settlement_id="d1", clearing_id="c1", amount=6_000)
    await books.entry("split_card_settlement", "stl-d1:c2", settlement_id="d1", clearing_id="c2", amount=4_000)
    await books.entry(
        "split_card_settlement",
        "stl-d1:c3",
        expect=422,
        code="BALANCE_CONDITION_VIOLATED",
        settlement_id="d1",
        clearing_id="c3",
        amount=1,
    )
    assert await books.pending("liabilities/pending_settlements:*") == {}
    assert await books.pending("liabilities/pending_clearings:*") == {
        "liabilities/pending_clearings:c1": 6_000,
        "liabilities/pending_clearings:c2": 4_000,
    }
    # Each clearing file: its card transactions, credited to their users.
    card_transactions = (("c1", "tx1", "u1", 2_500), ("c1", "tx2", "u2", 3_500), ("c2", "tx3", "u1", 4_000))
    for clearing_id, transaction_id, user_id, amount in card_transactions:
        await books.entry(
            "split_card_clearing", f"clr-{transaction_id}", clearing_id=clearing_id, user_id=user_id, amount=amount
        )
    assert await books.pending("liabilities/pending_*") == {}
    assert await books.cleared("liabilities/pending_clearings:*") == {
        "liabilities/pending_clearings:c1",
        "liabilities/pending_clearings:c2",
    }
    balances = await books.balances()
    assert balances["assets/operating"] == 10_000
    assert balances["liabilities/user_balances:u1"] == 6_500 and balances["liabilities/user_balances:u2"] == 3_500
    await assert_books_balance(ledger_pool, books)


async def assert_books_balance(pool: asyncpg.Pool, books: Books) -> None:
    """The ledger's invariants over this ledger: balances equal their journal, the accounting
    equation holds, and the linked cash account equals what the bank saw."""
    async with pool.acquire() as connection:
        drifted = await connection.fetch(
            """SELECT b.balance_id FROM balances b LEFT JOIN (
                   SELECT balance_id, SUM(credit_minor) FILTER (WHERE bucket = 'applied') AS credit,
                          SUM(debit_minor) FILTER (WHERE bucket = 'applied') AS debit
                   FROM entries GROUP BY balance_id) s USING (balance_id)
               WHERE b.ledger_id = $1 AND (b.credit_balance <> COALESCE(s.credit, 0)
                                           OR b.debit_balance <> COALESCE(s.debit, 0))""",
            books.ledger_id,
        )
        assert drifted == [], drifted
        difference = await connection.fetchval(
            """SELECT COALESCE(SUM(CASE WHEN account_type IN ('asset', 'expense') THEN debit_balance - credit_balance
                                        ELSE credit_balance - debit_balance END
                                   * CASE WHEN account_type IN ('asset', 'expense') THEN 1 ELSE -1 END), 0)
               FROM balances WHERE ledger_id = $1""",
            books.ledger_id,
        )
        assert difference == 0
    assert (await books.balances()).get("assets/operating", 0) == books.bank_minor
