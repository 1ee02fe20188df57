"""The platform's ledger client against the real ledger (in-process, its own database): the answers
it reads are the ones the ledger really gives, for balances, postings, holds and look-ups."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.platform.ledger import (
    APPLIED,
    INFLIGHT,
    REFUSED,
    REJECTED,
    VOID,
    HttpLedgerClient,
    LedgerRefusedError,
    Posting,
)

from .conftest import LEDGER_TEST_API_KEY

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session")
async def client(ledger_app: FastAPI) -> AsyncIterator[HttpLedgerClient]:
    client = HttpLedgerClient(
        "http://ledger",
        LEDGER_TEST_API_KEY,
        timeout_ms=5_000,
        attempts_max=2,
        transport=httpx.ASGITransport(app=ledger_app),
    )
    try:
        yield client
    finally:
        await client.aclose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def test_identities_wallets_and_balances(client: HttpLedgerClient) -> None:
    key = unique("ws")
    identity_id = await client.create_identity(idempotency_key=key, name="Acme", meta_data={"workspace_id": key})
    assert (
        await client.create_identity(idempotency_key=key, name="Acme", meta_data={"workspace_id": key}) == identity_id
    )
    assert await client.identity_exists(identity_id)
    assert not await client.identity_exists(unique("idt_missing"))

    wallet = await client.ensure_wallet(identity_id, "USD")
    assert (wallet.balance_minor, wallet.inflight_debit_minor, wallet.inflight_credit_minor) == (0, 0, 0)
    assert await client.ensure_wallet(identity_id, "USD") == wallet
    assert await client.find_wallet(identity_id, "USD") == wallet
    assert await client.find_wallet(identity_id, "EUR") is None
    assert await client.get_balance(wallet.balance_id) == wallet
    assert await client.get_balance(unique("bln_missing")) is None

    indicator = unique("@TestClearing")
    clearing = await client.ensure_balance(indicator, "USD")
    assert await client.find_balance(indicator, "USD") == clearing
    assert await client.ensure_balance(indicator, "USD") == clearing
    with pytest.raises(LedgerRefusedError) as taken:  # the indicator is the clearing balance, owned by no one
        await client.ensure_balance(indicator, "USD", identity_id=identity_id)
    assert taken.value.status == 409


async def test_a_hold_committed_in_part_then_voided_and_found_by_reference(client: HttpLedgerClient) -> None:
    identity_id = await client.create_identity(idempotency_key=unique("ws"), name="Globex", meta_data={})
    wallet = await client.ensure_wallet(identity_id, "USD")
    clearing = await client.ensure_balance(unique("@TestClearing"), "USD")
    funding = Posting(
        amount_minor=1_000,
        currency="USD",
        reference=unique("fund"),
        source=unique("@TestWorld"),
        destination=wallet.balance_id,
        allow_overdraft=True,
    )
    funded = await client.post(funding)
    assert (funded.status, funded.amount_minor, funded.replayed, funded.parent_transaction_id) == (
        APPLIED,
        1_000,
        False,
        None,
    )
    replay = await client.post(funding)
    assert replay.replayed and replay.transaction_id == funded.transaction_id

    hold_reference = unique("hold")
    hold = await client.post(
        Posting(
            amount_minor=600,
            currency="USD",
            reference=hold_reference,
            source=wallet.balance_id,
            destination=clearing.balance_id,
            inflight=True,
        )
    )
    assert hold.status == INFLIGHT
    held = await client.get_balance(wallet.balance_id)
    assert held is not None and (held.balance_minor, held.inflight_debit_minor, held.available_minor) == (
        1_000,
        600,
        400,
    )
    incoming = await client.get_balance(clearing.balance_id)
    assert incoming is not None and incoming.inflight_credit_minor == 600

    # Recovered after a crash: the hold is found by its reference, and by its id.
    assert await client.find_transaction(hold_reference) == hold
    assert await client.get_transaction(hold.transaction_id) == hold
    assert await client.find_transaction(unique("hold")) is None
    assert await client.get_transaction(unique("txn_missing")) is None

    commit_reference, void_reference = f"{hold_reference}:commit", f"{hold_reference}:void"
    committed = await client.commit_hold(hold.transaction_id, reference=commit_reference, amount_minor=250)
    assert (committed.status, committed.amount_minor, committed.parent_transaction_id) == (
        APPLIED,
        250,
        hold.transaction_id,
    )
    again = await client.commit_hold(hold.transaction_id, reference=commit_reference, amount_minor=250)
    assert again.transaction_id == committed.transaction_id  # the same reference is a replay
    voided = await client.void_hold(hold.transaction_id, reference=void_reference)
    assert (voided.status, voided.amount_minor, voided.parent_transaction_id) == (VOID, 350, hold.transaction_id)
    with pytest.raises(LedgerRefusedError) as settled:
        await client.commit_hold(hold.transaction_id, reference=f"{hold_reference}:late")
    assert settled.value.status == 409

    # The hold keeps its status: how it was settled is in its children, found by their references.
    assert (await client.find_transaction(hold_reference)) == hold
    assert await client.find_transaction(commit_reference) == committed
    assert await client.find_transaction(void_reference) == voided
    after = await client.get_balance(wallet.balance_id)
    assert after is not None and (after.balance_minor, after.inflight_debit_minor) == (750, 0)


async def test_post_many_reads_each_outcome(client: HttpLedgerClient) -> None:
    identity_id = await client.create_identity(idempotency_key=unique("ws"), name="Initech", meta_data={})
    wallet = await client.ensure_wallet(identity_id, "USD")
    world, clearing = unique("@TestWorld"), unique("@TestClearing")
    postings = [
        Posting(
            amount_minor=500,
            currency="USD",
            reference=unique("in"),
            source=world,
            destination=wallet.balance_id,
            allow_overdraft=True,
        ),
        Posting(
            amount_minor=900, currency="USD", reference=unique("out"), source=wallet.balance_id, destination=clearing
        ),
        Posting(
            amount_minor=100,
            currency="USD",
            reference=unique("out"),
            source=unique("bln_missing"),
            destination=clearing,
        ),
    ]
    applied, rejected, refused = await client.post_many(postings)
    assert (applied.status, applied.amount_minor) == (APPLIED, 500)
    assert rejected.status == REJECTED and rejected.rejection_reason
    assert (refused.status, refused.transaction_id) == (REFUSED, "") and refused.rejection_reason
    replayed, rejected_again, _ = await client.post_many(postings)
    assert replayed.transaction_id == applied.transaction_id
    assert rejected_again.transaction_id == rejected.transaction_id
