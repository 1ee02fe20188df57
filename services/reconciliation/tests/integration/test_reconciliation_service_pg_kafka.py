"""Reconciliation over real PostgreSQL and Kafka: probes, and `transfer.created` recorded exactly once."""

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
from clearway.reconciliation.adapters.orm import ReconciliationBase
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.entrypoints.consumers import TRANSFERS_GROUP_ID

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


def transfer_body(transfer_id: str, direction: str = "outbound") -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "processor": "acme-bank",
        "direction": direction,
        "amount_minor": 4_200,
        "currency": "KES",
        "account_id": "acct_mpesa_b2c",
        "payment_reference": None,
        "counterparty": {"name": None, "account": "2547XXXXXX12"},
        "settled_at": "2024-05-02T14:03:00+03:00",
    }


async def transactions_for(client: httpx.AsyncClient, transfer_id: str) -> list[dict[str, Any]]:
    return await collect_pages(client, "/external-transactions", keep=lambda item: item["external_id"] == transfer_id)


async def events_handled(database_url: str, wanted: set[str]) -> bool:
    return wanted <= await inbox_event_ids(database_url, TRANSFERS_GROUP_ID)


async def test_reconciliation_is_live_and_ready_against_a_migrated_database(
    reconciliation_settings: ReconciliationSettings, running_reconciliation: Any
) -> None:
    async with running_reconciliation(reconciliation_settings) as client:
        await expect_live_and_ready(client)


async def test_reconciliation_is_not_ready_when_its_database_is_unreachable(
    reconciliation_settings: ReconciliationSettings, running_reconciliation: Any
) -> None:
    async with running_reconciliation(with_unreachable_database(reconciliation_settings)) as client:
        await expect_live_but_not_ready_without_database(client)


async def test_a_reported_transfer_is_one_unreconciled_transaction_and_an_unknown_account_is_a_break(
    reconciliation_settings: ReconciliationSettings, processor: AIOKafkaProducer, running_reconciliation: Any
) -> None:
    transfer_id = f"trf_{uuid.uuid4().hex[:12]}"
    first_event, retry_event = (f"evt-{uuid.uuid4().hex}" for _ in range(2))
    async with running_reconciliation(reconciliation_settings) as client:
        for event_id in (first_event, first_event, retry_event):  # a redelivery, then a processor retry
            await publish_transfer(processor, transfer_body(transfer_id), event_id=event_id)
        await wait_until(
            lambda: events_handled(reconciliation_settings.database_url, {first_event, retry_event}),
            "reconciliation has handled the delivery and the retry",
        )
        (transaction,) = await transactions_for(client, transfer_id)
        assert (transaction["status"], transaction["direction"]) == ("unreconciled", "outbound")
        assert transaction["link_id"] is None  # no link names acct_mpesa_b2c
        assert (transaction["amount_minor"], transaction["currency"]) == (4_200, "KES")
        assert transaction["booked_at"] in ("2024-05-02T11:03:00Z", "2024-05-02T11:03:00+00:00")
        assert (await client.get(f"/external-transactions/{transaction['id']}")).json() == transaction
        unknown = (await client.get("/breaks", params={"kind": "unknown_account", "limit": 100})).json()["data"]
        assert any(found["subject"] == "acme-bank:acct_mpesa_b2c" for found in unknown)


async def test_reconciliation_orm_mirrors_the_migrated_schema(reconciliation_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    assert await orm_schema_drift(reconciliation_database_url, ReconciliationBase.metadata) == []
