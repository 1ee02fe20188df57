"""Funding learns a paid payable's payout outcome by event (issue 8, section 5), over real
PostgreSQL, the real broker and the in-process ledger.

A payable is paid the usual way (post-funding: invoice, deposit, link-deposit); payout's events are
then published exactly as payout's outbox relay sends them (CloudEvents headers from the contracts
codec, source `clearway.payout`, key = withdrawal_id, the contract model's JSON as the body).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from clearway.contracts.catalogue import topic_for_event
from clearway.contracts.events import PayoutFailed, PayoutReversed, PayoutSucceeded
from clearway.devstack.testing import inbox_event_ids, publish_as_processor, started_producer, wait_until
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints.consumers import PAYOUTS_GROUP_ID

from .conftest import RunningFlow
from .test_funding_flows_with_ledger import (
    RECIPIENT,
    approved_payable,
    create_funding,
    new_payee,
    publish_transfer,
    wait_for_deposit,
)

pytestmark = pytest.mark.integration

PAYOUT_SOURCE = "clearway.payout"


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    async with started_producer(kafka_bootstrap_servers) as started:
        yield started


async def publish_as_payout(producer: AIOKafkaProducer, event: BaseModel, *, event_id: str) -> None:
    """What payout's outbox relay sends: topic and key from the catalogue, the model's JSON as body."""
    spec = topic_for_event(event)
    await publish_as_processor(
        producer,
        spec.name,
        event.model_dump(mode="json"),
        key=spec.message_key(event),
        event_id=event_id,
        source=PAYOUT_SOURCE,
    )


def withdrawal_fields(
    payable: dict[str, Any], withdrawal_id: str, status: str, occurred_at: datetime
) -> dict[str, Any]:
    return {
        "withdrawal_id": withdrawal_id,
        "payment_intent_id": f"pi_{withdrawal_id}",
        "user_id": payable["payee_id"],
        "amount_minor": payable["amount_minor"],
        "currency": payable["currency"],
        "status": status,
        "method_type": "mobile_money",
        "provider": "sandbox",
        "account_number_masked": "******5678",
        "origin": "payable",
        "payable_id": payable["id"],
        "occurred_at": occurred_at,
    }


async def paid_payable(
    client: httpx.AsyncClient, ledger: httpx.AsyncClient, producer: AIOKafkaProducer
) -> dict[str, Any]:
    """One payable through the existing post-funding flow, to `paid`."""
    payee = await new_payee(ledger, "Pat")
    payable = await approved_payable(client, payee, 42_000)
    funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
    transfer = await publish_transfer(producer, 42_000, reference=funding["invoice"]["payment_reference"])
    await wait_for_deposit(client, transfer["transfer_id"])
    linked = await client.post(f"/funding/{funding['id']}/link-deposit", json={"transfer_id": transfer["transfer_id"]})
    assert linked.status_code == 200 and linked.json()["status"] == "paid_out", linked.text
    paid: dict[str, Any] = (await client.get(f"/payable/{payable['id']}")).json()
    assert paid["status"] == "paid" and paid["payout"] is None
    return paid


async def test_payout_outcomes_land_on_the_paid_payable_once_and_never_backwards(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, producer: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    # Its own consumer groups: no other test's funding shares (or wedges) `funding.payouts`.
    settings = flow_settings.model_copy(update={"kafka_consumer_group_prefix": f"payouts-{uuid.uuid4().hex[:8]}."})
    withdrawal_id = f"wd_{uuid.uuid4().hex[:16]}"
    paid_out_at = datetime.now(UTC).replace(microsecond=0)

    async def handled(*event_ids: str) -> bool:
        return set(event_ids) <= await inbox_event_ids(settings.database_url, PAYOUTS_GROUP_ID)

    async with running_flow(settings=settings) as client:
        payable = await paid_payable(client, ledger, producer)
        success = PayoutSucceeded(
            **withdrawal_fields(payable, withdrawal_id, "succeeded", paid_out_at), receipt="QK71ABC"
        )
        success_event = f"evt_{uuid.uuid4().hex}"
        await publish_as_payout(producer, success, event_id=success_event)

        async def paid_out() -> dict[str, Any] | None:
            body: dict[str, Any] = (await client.get(f"/payable/{payable['id']}")).json()
            return body if body["payout"] is not None else None

        shown = await wait_until(paid_out, "GET /payable shows the payout outcome")
        assert shown["status"] == "paid" and shown["paid_at"] == payable["paid_at"]
        assert shown["payout"] == {
            "status": "paid_out",
            "withdrawal_id": withdrawal_id,
            "receipt": "QK71ABC",
            "failure_code": None,
            "updated_at": shown["payout"]["updated_at"],
        }
        assert datetime.fromisoformat(shown["payout"]["updated_at"]) == paid_out_at  # payout's time, not ours

        # The same event again, and payout's relay publishing the same success under a new id: once
        # the later one is handled (same key, same partition), the redelivery before it was too.
        await publish_as_payout(producer, success, event_id=success_event)
        republished = f"evt_{uuid.uuid4().hex}"
        await publish_as_payout(producer, success, event_id=republished)
        await wait_until(lambda: handled(success_event, republished), "funding has handled both duplicates")
        assert (await client.get(f"/payable/{payable['id']}")).json() == shown

        reversed_at = paid_out_at + timedelta(minutes=5)
        reversal = PayoutReversed(
            **withdrawal_fields(payable, withdrawal_id, "reversed", reversed_at), reason="provider reversal"
        )
        await publish_as_payout(producer, reversal, event_id=f"evt_{uuid.uuid4().hex}")

        async def reversed_() -> dict[str, Any] | None:
            body: dict[str, Any] = (await client.get(f"/payable/{payable['id']}")).json()
            return body if body["payout"]["status"] == "reversed" else None

        after = await wait_until(reversed_, "GET /payable shows the payout reversed")
        assert after["status"] == "paid"
        assert after["payout"] == {
            "status": "reversed",
            "withdrawal_id": withdrawal_id,
            "receipt": "QK71ABC",  # the success's receipt stays
            "failure_code": None,
            "updated_at": after["payout"]["updated_at"],
        }
        assert datetime.fromisoformat(after["payout"]["updated_at"]) == reversed_at
        assert datetime.fromisoformat(after["updated_at"]) >= datetime.fromisoformat(after["created_at"])

        # A failure of the same withdrawal arriving late moves nothing backwards.
        late_failure = PayoutFailed(
            **withdrawal_fields(payable, withdrawal_id, "failed", paid_out_at), failure_code="TIMEOUT", reason=None
        )
        late_event = f"evt_{uuid.uuid4().hex}"
        await publish_as_payout(producer, late_failure, event_id=late_event)
        await wait_until(lambda: handled(late_event), "funding has handled the late failure")
        assert (await client.get(f"/payable/{payable['id']}")).json() == after
