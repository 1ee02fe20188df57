"""The platform's ledger client (`clearway.platform.ledger`) against this ledger, for the FRAGMENT-style
calls the reconciliation service makes: the answers it parses are the ones the ledger really gives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
import pytest_asyncio

from clearway.ledger.config import LedgerSettings
from clearway.ledger.main import create_app
from clearway.platform.ledger import (
    CLEARING_CLEARED,
    CLEARING_PENDING,
    ENTRY_POSTED,
    ENTRY_REVERSED,
    HttpLedgerClient,
    LedgerRefusedError,
    SchemaEntry,
)

pytestmark = pytest.mark.integration
API_KEY = "ledger-client-test-key"


@pytest_asyncio.fixture(loop_scope="session")
async def client(ledger_database_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[HttpLedgerClient]:
    settings = LedgerSettings(
        database_url=ledger_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=API_KEY,
        log_json=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        client = HttpLedgerClient(
            "http://ledger", API_KEY, timeout_ms=10_000, attempts_max=2, transport=httpx.ASGITransport(app=app)
        )
        try:
            yield client
        finally:
            await client.aclose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_ledgers_by_ik_and_the_shipped_schema(client: HttpLedgerClient) -> None:
    ik = unique("ledger")
    ledger = await client.create_ledger("Reconciliation", ik=ik, meta_data={"team": "recon"})
    assert (ledger.name, ledger.ik) == ("Reconciliation", ik)
    assert await client.create_ledger("Another name", ik=ik) == ledger
    assert await client.find_ledger_by_ik(ik) == ledger
    assert await client.find_ledger_by_ik(f"{ik}/not-there") is None
    assert await client.get_ledger(ledger.ledger_id) == ledger
    assert await client.get_ledger(unique("ldg_missing")) is None
    plain = await client.create_ledger("No ik")
    assert plain.ik is None and plain.ledger_id != ledger.ledger_id

    await client.install_shipped_schema(ledger.ledger_id, "reconciliation")
    await client.install_shipped_schema(ledger.ledger_id, "reconciliation")
    with pytest.raises(LedgerRefusedError) as refused:
        await client.install_shipped_schema(ledger.ledger_id, "no_such_schema")
    assert refused.value.status == 404


async def test_entries_reconciliation_reversal_and_accounts(client: HttpLedgerClient) -> None:
    ledger = await client.create_ledger("Flows", ik=unique("ledger"))
    ledger_id = ledger.ledger_id
    await client.install_shipped_schema(ledger_id, "reconciliation")

    external = {"id": "bank-in-1", "amount_minor": 10_000, "currency": "KES", "description": "M-Pesa C2B"}
    topup = await client.reconcile(
        ledger_id,
        type="reconcile_payment",
        ik="topup-1",
        parameters={"user_id": "u1", "amount": 10_000},
        external_transaction=external,
    )
    assert (topup.status, topup.external_transaction_id, topup.amount_minor, topup.currency) == (
        ENTRY_POSTED,
        "bank-in-1",
        10_000,
        "KES",
    )
    assert not topup.replayed and topup.transaction_id
    again = await client.reconcile(
        ledger_id,
        type="reconcile_payment",
        ik="topup-1",
        parameters={"user_id": "u1", "amount": 10_000},
        external_transaction=external,
    )
    assert again.replayed and again.entry_id == topup.entry_id
    with pytest.raises(LedgerRefusedError) as refused:
        await client.reconcile(
            ledger_id,
            type="reconcile_payment",
            ik="topup-2",
            parameters={"user_id": "u2", "amount": 10_000},
            external_transaction=external,
        )
    assert refused.value.code == "EXTERNAL_TRANSACTION_ALREADY_RECONCILED"

    payments = {"p1": 1_500, "p2": 2_500, "p3": 500}
    for payment_id, amount in payments.items():
        posted = await client.post_entry(
            ledger_id,
            type="initiate_payment",
            ik=f"init-{payment_id}",
            parameters={"user_id": "u1", "payment_id": payment_id, "amount": str(amount)},
            currency="KES",
            description=f"withdrawal {payment_id}",
        )
        assert posted.type == "initiate_payment" and {line["amount_minor"] for line in posted.lines} == {
            amount,
            -amount,
        }
    with pytest.raises(LedgerRefusedError) as violated:
        await client.post_entry(
            ledger_id,
            type="initiate_payment",
            ik="init-p4",
            parameters={"user_id": "u1", "payment_id": "p4", "amount": 10_000},
            currency="KES",
        )
    assert violated.value.code == "BALANCE_CONDITION_VIOLATED"

    # Paged through with the account id as the cursor.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, has_more = await client.list_accounts(
            ledger_id,
            clearing_status=CLEARING_PENDING,
            path="liabilities/pending_withdrawals:*",
            limit=2,
            starting_after=cursor,
        )
        seen.extend(account.path for account in page)
        if not has_more:
            break
        cursor = page[-1].account_id
    assert sorted(seen) == [f"liabilities/pending_withdrawals:{payment_id}" for payment_id in sorted(payments)]

    reversed_ = await client.reverse_entry(ledger_id, "init-p3")
    assert (reversed_.status, reversed_.replayed) == (ENTRY_REVERSED, False) and reversed_.reversed_by
    assert (await client.reverse_entry(ledger_id, "init-p3")).replayed
    fetched = await client.get_entry(ledger_id, "init-p3")
    assert fetched is not None and fetched.status == ENTRY_REVERSED and fetched.reversed_by == reversed_.reversed_by
    assert await client.get_entry(ledger_id, "never-posted") is None

    # Two of our own workers settle p1 at once: both get the one entry, whichever reconciles first.
    def settle_p1() -> Awaitable[SchemaEntry]:
        return client.reconcile(
            ledger_id,
            type="settle_payment",
            ik="settle-p1",
            parameters={"payment_id": "p1", "amount": 1_500},
            external_transaction={"id": "bank-out-1", "amount_minor": -1_500, "currency": "KES"},
        )

    first, second = await asyncio.gather(settle_p1(), settle_p1())
    assert first.entry_id == second.entry_id and sorted([first.replayed, second.replayed]) == [False, True]

    accounts, has_more = await client.list_accounts(ledger_id, limit=100)
    assert not has_more
    by_path = {account.path: account for account in accounts}
    cash = by_path["assets/operating"]
    assert (cash.type, cash.linked, cash.clearing, cash.template, cash.own_balance_minor) == (
        "asset",
        True,
        False,
        False,
        8_500,
    )
    assert cash.clearing_status is None and cash.currency == "KES" and cash.ledger_id == ledger_id
    p1 = by_path["liabilities/pending_withdrawals:p1"]
    assert (p1.clearing, p1.template, p1.clearing_status, p1.own_balance_minor) == (True, True, CLEARING_CLEARED, 0)
    assert by_path["liabilities/pending_withdrawals:p2"].clearing_status == CLEARING_PENDING
    assert by_path["liabilities/user_balances:u1"].own_balance_minor == 10_000 - 1_500 - 2_500
