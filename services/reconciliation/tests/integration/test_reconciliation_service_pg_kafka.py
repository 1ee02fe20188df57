"""Reconciliation over real PostgreSQL and Kafka: probes, and `transfer.created` recorded exactly once."""

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
from clearway.platform.db import create_engine
from clearway.reconciliation.adapters.orm import ReconciliationBase
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.entrypoints.consumers import TRANSFERS_GROUP_ID

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


async def events_handled(database_url: str, wanted: set[str]) -> bool:
    return wanted <= await handled_event_ids(database_url)


async def transactions_for(client: httpx.AsyncClient, transfer_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _page in range(100):  # bounded: the test database holds a handful of rows
        params: dict[str, Any] = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        response = await client.get("/external-transactions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [item for item in page["data"] if item["transfer_id"] == transfer_id]
        if not page["has_more"]:
            return found
        cursor = page["data"][-1]["id"]
    raise AssertionError("more pages than a test database should hold")


async def test_reconciliation_is_live_and_ready_against_a_migrated_database(
    reconciliation_settings: ReconciliationSettings, running_reconciliation: Any
) -> None:
    async with running_reconciliation(reconciliation_settings) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {"database", "kafka"} <= checks.keys() and set(checks.values()) == {"ok"}


async def test_reconciliation_is_not_ready_when_its_database_is_unreachable(
    reconciliation_settings: ReconciliationSettings, running_reconciliation: Any
) -> None:
    unreachable = reconciliation_settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/clearway_reconciliation"}
    )
    async with running_reconciliation(unreachable) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error: ")


async def test_a_reported_transfer_is_one_unmatched_transaction(
    reconciliation_settings: ReconciliationSettings, processor: AIOKafkaProducer, running_reconciliation: Any
) -> None:
    transfer_id = f"trf_{uuid.uuid4().hex[:12]}"
    first_event, retry_event = (f"evt-{uuid.uuid4().hex}" for _ in range(2))
    async with running_reconciliation(reconciliation_settings) as client:
        for event_id in (first_event, first_event, retry_event):  # a redelivery, then a processor retry
            await publish_transfer(processor, transfer_body(transfer_id), event_id=event_id)
        await wait_until(lambda: events_handled(reconciliation_settings.database_url, {first_event, retry_event}))
        (transaction,) = await transactions_for(client, transfer_id)
        assert (transaction["status"], transaction["direction"]) == ("unmatched", "outbound")
        assert (transaction["amount_minor"], transaction["currency"]) == (4_200, "KES")
        assert transaction["settled_at"] in ("2024-05-02T11:03:00Z", "2024-05-02T11:03:00+00:00")
        assert (await client.get(f"/external-transactions/{transaction['id']}")).json() == transaction


async def test_reconciliation_orm_mirrors_the_migrated_schema(reconciliation_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    engine = create_engine(reconciliation_database_url, pool_size=1)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, _parent: (
                    kind != "table" or name in ReconciliationBase.metadata.tables
                )
            },
        )
        return list(compare_metadata(context, ReconciliationBase.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    # Indexes and constraints live in the migrations only; tables, columns, types and nullability must agree.
    column_level = [d for d in differences if isinstance(d, list) or d[0] in COLUMN_LEVEL_OPERATIONS]
    assert column_level == []
