"""Funding over real PostgreSQL and Kafka: probes, and `transfer.created` recorded exactly once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from clearway.devstack.testing import (
    collect_pages,
    expect_live_and_ready,
    expect_live_but_not_ready_without_database,
    inbox_event_ids,
    orm_schema_drift,
    publish_as_processor,
    started_producer,
    wait_until,
    with_unreachable_database,
)
from clearway.funding.adapters.orm import FundingBase
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints.consumers import TRANSFERS_GROUP_ID

pytestmark = pytest.mark.integration

PROCESSOR_SOURCE = "urn:clearway-tests:acme-bank"


@pytest_asyncio.fixture(loop_scope="session")
async def processor(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    async with started_producer(kafka_bootstrap_servers) as producer:
        yield producer


async def publish_transfer(producer: AIOKafkaProducer, body: dict[str, Any], *, event_id: str) -> None:
    """Exactly what an outside processor sends: CloudEvents binary headers, JSON body, key = transfer_id."""
    await publish_as_processor(
        producer, "transfer.created", body, key=body["transfer_id"], event_id=event_id, source=PROCESSOR_SOURCE
    )


def transfer_body(transfer_id: str, amount_minor: int = 125_000) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "processor": "acme-bank",
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": "USD",
        "account_id": "acct_operating_usd",
        "payment_reference": "INV-2024-0042",
        "counterparty": {"name": "Globex Finance", "account": "021000021-99887766"},
        "settled_at": "2024-05-02T14:03:00Z",
    }


async def deposits_for(client: httpx.AsyncClient, transfer_id: str) -> list[dict[str, Any]]:
    return await collect_pages(
        client, "/deposits", params={"linked": "false"}, keep=lambda item: item["transfer_id"] == transfer_id
    )


async def events_handled(database_url: str, wanted: set[str]) -> bool:
    return wanted <= await inbox_event_ids(database_url, TRANSFERS_GROUP_ID)


async def test_funding_is_live_and_ready_against_a_migrated_database(
    funding_settings: FundingSettings, running_funding: Any
) -> None:
    async with running_funding(funding_settings) as client:
        await expect_live_and_ready(client)
        assert (await client.get("/metrics")).status_code == 200


async def test_funding_is_not_ready_when_its_database_is_unreachable(
    funding_settings: FundingSettings, running_funding: Any
) -> None:
    async with running_funding(with_unreachable_database(funding_settings)) as client:
        await expect_live_but_not_ready_without_database(client)


async def test_a_transfer_is_one_deposit_across_duplicates_retries_and_a_restart(
    funding_settings: FundingSettings, processor: AIOKafkaProducer, running_funding: Any
) -> None:
    first_transfer = f"trf_{uuid.uuid4().hex[:12]}"
    second_transfer = f"trf_{uuid.uuid4().hex[:12]}"
    first_event, retry_event, late_retry_event, second_event = (f"evt-{uuid.uuid4().hex}" for _ in range(4))

    async with running_funding(funding_settings) as client:
        await publish_transfer(processor, transfer_body(first_transfer), event_id=first_event)
        await publish_transfer(processor, transfer_body(first_transfer), event_id=first_event)  # redelivery
        await publish_transfer(processor, transfer_body(first_transfer), event_id=retry_event)  # processor retry
        # Same key, same partition: once the retry is handled, the redelivery before it was too.
        await wait_until(
            lambda: events_handled(funding_settings.database_url, {first_event, retry_event}),
            "funding has handled the delivery and the retry",
        )
        (deposit,) = await deposits_for(client, first_transfer)
        assert deposit["status"] == "unlinked" and deposit["linked_funding_id"] is None
        assert (deposit["amount_minor"], deposit["currency"]) == (125_000, "USD")
        assert deposit["counterparty"] == {"name": "Globex Finance", "account": "021000021-99887766"}
        assert (await client.get(f"/deposits/{deposit['id']}")).json() == deposit

    # Published while no funding consumer runs; the restarted one picks it up from its committed offsets.
    await publish_transfer(processor, transfer_body(second_transfer, 990), event_id=second_event)
    await publish_transfer(processor, transfer_body(first_transfer), event_id=first_event)
    await publish_transfer(processor, transfer_body(first_transfer), event_id=late_retry_event)

    async with running_funding(funding_settings) as client:
        await wait_until(
            lambda: events_handled(funding_settings.database_url, {second_event, late_retry_event}),
            "the restarted funding has handled what was published while it was down",
        )
        assert [d["amount_minor"] for d in await deposits_for(client, second_transfer)] == [990]
        assert [d["id"] for d in await deposits_for(client, first_transfer)] == [deposit["id"]]


async def test_funding_orm_mirrors_the_migrated_schema(funding_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    assert await orm_schema_drift(funding_database_url, FundingBase.metadata) == []
