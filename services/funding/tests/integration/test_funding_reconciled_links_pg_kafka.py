"""Funding links a deposit to the invoice reconciliation matched it to (`transfer.reconciled`), over
real PostgreSQL, the real broker and the in-process ledger.

The transfers settle with a payment reference that names no invoice (the payer got it wrong), so
only reconciliation's match can link them. Reconciliation's events are published exactly as its
outbox relay sends them (CloudEvents headers from the contracts codec, source
`clearway.reconciliation`, key = external_transaction_id, the contract model's JSON as the body).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from clearway.contracts.catalogue import topic_for_event
from clearway.contracts.events import TransferReconciled
from clearway.devstack.testing import inbox_event_ids, publish_as_processor, started_producer, wait_until
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints.consumers import RECONCILIATIONS_GROUP_ID

from .conftest import RunningFlow
from .test_funding_flows_with_ledger import (
    RECIPIENT,
    approved_payable,
    create_funding,
    new_payee,
    outbox_events,
    publish_transfer,
    wait_for_deposit,
    wallet_balance,
)

pytestmark = pytest.mark.integration

RECONCILIATION_SOURCE = "clearway.reconciliation"
WRONG_REFERENCE = "GLOBEX MAY PAYMENT"


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    async with started_producer(kafka_bootstrap_servers) as started:
        yield started


def own_groups(settings: FundingSettings, name: str) -> FundingSettings:
    """Consumer groups of the test's own: no other test's funding shares (or wedges) them."""
    return settings.model_copy(update={"kafka_consumer_group_prefix": f"{name}-{uuid.uuid4().hex[:8]}."})


def reconciled(transfer: dict[str, Any], *funding_ids: str) -> TransferReconciled:
    """What reconciliation publishes once it posted a match of `transfer` to these invoices."""
    match_id = f"mch_{uuid.uuid4().hex[:12]}"
    return TransferReconciled(
        external_transaction_id=f"etx_{uuid.uuid4().hex[:12]}",
        link_id="lnk_funding_tests",
        external_id=transfer["transfer_id"],
        match_id=match_id,
        direction="inbound",
        amount_minor=transfer["amount_minor"],
        currency=transfer["currency"],
        reference=transfer["payment_reference"],
        ledger_id="ldg_funding_tests",
        entry_iks=[f"{match_id}:0"],
        expectation_ids=[f"exp_{funding_id}" for funding_id in funding_ids],
        expectation_sources=[f"funding:{funding_id}" for funding_id in funding_ids],
        reconciled_at=datetime.now(UTC),
    )


async def publish_as_reconciliation(producer: AIOKafkaProducer, event: TransferReconciled, *, event_id: str) -> None:
    spec = topic_for_event(event)
    await publish_as_processor(
        producer,
        spec.name,
        event.model_dump(mode="json"),
        key=spec.message_key(event),
        event_id=event_id,
        source=RECONCILIATION_SOURCE,
    )


def handled(settings: FundingSettings, *event_ids: str) -> Callable[[], Awaitable[bool]]:
    """The events are in funding's inbox: handled and committed, not failed and retried."""

    async def check() -> bool:
        return set(event_ids) <= await inbox_event_ids(settings.database_url, RECONCILIATIONS_GROUP_ID)

    return check


async def invoice_for(client: httpx.AsyncClient, ledger: httpx.AsyncClient, name: str, amount_minor: int) -> Any:
    payee = await new_payee(ledger, name)
    payable = await approved_payable(client, payee, amount_minor)
    funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
    return payee, payable, funding


async def get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_deposit_reconciliation_matched_is_linked_and_paid_out_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, producer: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    settings = own_groups(flow_settings, "reconciled")
    async with running_flow(settings=settings) as client:
        payee, payable, funding = await invoice_for(client, ledger, "Rita", 7_731)
        transfer = await publish_transfer(producer, 7_731, reference=WRONG_REFERENCE)
        deposit = await wait_for_deposit(client, transfer["transfer_id"])
        # The reference names no invoice: nothing proposed, nothing linked.
        assert (deposit["proposed_funding_id"], deposit["linked_funding_id"]) == (None, None)
        assert (await get(client, f"/funding/{funding['id']}"))["status"] == "awaiting_funds"

        match = reconciled(transfer, funding["id"])
        first_event = f"evt_{uuid.uuid4().hex}"
        await publish_as_reconciliation(producer, match, event_id=first_event)

        async def paid_out() -> dict[str, Any] | None:
            body = await get(client, f"/funding/{funding['id']}")
            return body if body["status"] == "paid_out" else None

        linked = await wait_until(paid_out, "the reconciled funding is paid out")
        assert linked["deposit"]["transfer_id"] == transfer["transfer_id"]
        assert linked["deposit"]["linked_by"] == "reconciliation"
        assert (await get(client, f"/deposits/{deposit['id']}"))["linked_funding_id"] == funding["id"]
        assert (await get(client, f"/payable/{payable['id']}"))["status"] == "paid"
        assert await wallet_balance(ledger, payee) == 7_731

        # The same event again, and the same match published again under a new id: once the later
        # one is handled (same key, same partition), the redelivery before it was too.
        await publish_as_reconciliation(producer, match, event_id=first_event)
        republished = f"evt_{uuid.uuid4().hex}"
        await publish_as_reconciliation(producer, match, event_id=republished)
        await wait_until(handled(settings, first_event, republished), "funding has handled both duplicates")
        assert await get(client, f"/funding/{funding['id']}") == linked
        assert await wallet_balance(ledger, payee) == 7_731
    deposit_linked = await outbox_events(settings, "funding.deposit_linked")
    assert [event["funding_id"] for event in deposit_linked].count(funding["id"]) == 1


async def test_a_deposit_linked_to_another_funding_is_skipped_without_error(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, producer: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    settings = own_groups(flow_settings, "reconciled-conflict")
    async with running_flow(settings=settings) as client:
        _, _, linked_by_hand = await invoice_for(client, ledger, "Sam", 6_420)
        _, waiting_payable, matched = await invoice_for(client, ledger, "Tom", 6_420)
        transfer = await publish_transfer(producer, 6_420, reference=WRONG_REFERENCE)
        deposit = await wait_for_deposit(client, transfer["transfer_id"])
        by_hand = await client.post(
            f"/funding/{linked_by_hand['id']}/link-deposit", json={"transfer_id": transfer["transfer_id"]}
        )
        assert by_hand.status_code == 200 and by_hand.json()["status"] == "paid_out", by_hand.text

        # Reconciliation matched the same transfer to the other invoice of the same amount.
        event_id = f"evt_{uuid.uuid4().hex}"
        await publish_as_reconciliation(producer, reconciled(transfer, matched["id"]), event_id=event_id)
        # In the inbox: handled and committed on its first attempt, neither raised nor dead-lettered.
        await wait_until(handled(settings, event_id), "funding has handled the conflicting match")
        assert (await get(client, f"/deposits/{deposit['id']}"))["linked_funding_id"] == linked_by_hand["id"]
        unchanged = await get(client, f"/funding/{matched['id']}")
        assert unchanged["status"] == "awaiting_funds" and unchanged["deposit"] is None
        assert (await get(client, f"/payable/{waiting_payable['id']}"))["status"] == "in_funding"


async def test_a_match_that_arrives_before_its_deposit_links_it_when_it_arrives(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, producer: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    settings = own_groups(flow_settings, "reconciled-early")
    async with running_flow(settings=settings) as client:
        payee, _, funding = await invoice_for(client, ledger, "Uma", 5_315)
        transfer = {
            "transfer_id": f"trf_{uuid.uuid4().hex[:16]}",
            "amount_minor": 5_315,
            "currency": "USD",
            "payment_reference": WRONG_REFERENCE,
        }
        event_id = f"evt_{uuid.uuid4().hex}"
        await publish_as_reconciliation(producer, reconciled(transfer, funding["id"]), event_id=event_id)
        await wait_until(handled(settings, event_id), "funding has recorded the early match")
        assert (await get(client, f"/funding/{funding['id']}"))["status"] == "awaiting_funds"

        await publish_transfer(
            producer, 5_315, reference=WRONG_REFERENCE, transfer_id=transfer["transfer_id"], currency="USD"
        )

        async def paid_out() -> bool:
            return (await get(client, f"/funding/{funding['id']}"))["status"] == "paid_out"

        await wait_until(paid_out, "the pending link is applied once the deposit is recorded")
    assert await wallet_balance(ledger, payee) == 5_315
