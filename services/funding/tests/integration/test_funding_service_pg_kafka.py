"""Funding over real PostgreSQL and Kafka: probes, and `transfer.created` recorded exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from clearway.devstack.ports import find_free_port
from clearway.devstack.testing import publish_as_processor
from clearway.funding.adapters.orm import FundingBase
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints.consumers import TRANSFERS_GROUP_ID
from clearway.platform.db import create_engine

pytestmark = pytest.mark.integration

COLUMN_LEVEL_OPERATIONS = frozenset({"add_table", "remove_table", "add_column", "remove_column"})

PROCESSOR_SOURCE = "urn:clearway-tests:acme-bank"
WAIT_TIMEOUT_S = 60
POLL_INTERVAL_S = 0.1


@pytest_asyncio.fixture(loop_scope="session")
async def processor(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


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


async def handled_event_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT event_id FROM inbox WHERE consumer = :consumer"), {"consumer": TRANSFERS_GROUP_ID}
            )
            return {row.event_id.rpartition("#")[2] for row in rows}
    finally:
        await engine.dispose()


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout_s: float = WAIT_TIMEOUT_S) -> None:
    for _attempt in range(int(timeout_s / POLL_INTERVAL_S)):
        if await condition():
            return
        await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"condition not met within {timeout_s}s")


async def deposits_for(client: httpx.AsyncClient, transfer_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _page in range(100):  # bounded: the test database holds a handful of deposits
        params: dict[str, Any] = {"linked": "false", "limit": 100}
        if cursor is not None:
            params["starting_after"] = cursor
        response = await client.get("/deposits", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [item for item in page["data"] if item["transfer_id"] == transfer_id]
        if not page["has_more"]:
            return found
        cursor = page["data"][-1]["id"]
    raise AssertionError("more pages than a test database should hold")


async def test_funding_is_live_and_ready_against_a_migrated_database(
    funding_settings: FundingSettings, running_funding: Any
) -> None:
    async with running_funding(funding_settings) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {"database", "kafka"} <= checks.keys() and set(checks.values()) == {"ok"}
        assert (await client.get("/metrics")).status_code == 200


async def test_funding_is_not_ready_when_its_database_is_unreachable(
    funding_settings: FundingSettings, running_funding: Any
) -> None:
    unreachable = funding_settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/clearway_funding"}
    )
    async with running_funding(unreachable) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error: ")


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
            lambda: _contains(handled_event_ids(funding_settings.database_url), {first_event, retry_event})
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
            lambda: _contains(handled_event_ids(funding_settings.database_url), {second_event, late_retry_event})
        )
        assert [d["amount_minor"] for d in await deposits_for(client, second_transfer)] == [990]
        assert [d["id"] for d in await deposits_for(client, first_transfer)] == [deposit["id"]]


async def _contains(found: Awaitable[set[str]], wanted: set[str]) -> bool:
    return wanted <= await found


async def test_funding_orm_mirrors_the_migrated_schema(funding_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    engine = create_engine(funding_database_url, pool_size=1)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, kind, _parent: kind != "table" or name in FundingBase.metadata.tables},
        )
        return list(compare_metadata(context, FundingBase.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    # Indexes and constraints live in the migrations only; tables, columns, types and nullability must agree.
    column_level = [d for d in differences if isinstance(d, list) or d[0] in COLUMN_LEVEL_OPERATIONS]
    assert column_level == []
