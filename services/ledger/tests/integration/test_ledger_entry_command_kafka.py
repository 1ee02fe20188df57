"""`ledger.entry.requested` over the real broker: the command posts the entry once, and the
resulting `ledger.entry.posted` / `ledger.clearing.cleared` events leave through the outbox.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.contracts.events.commands import LedgerEntryRequested
from clearway.devstack.testing import wait_until

pytestmark = pytest.mark.integration

WAIT_S_MAX = 30.0


async def send_command(bootstrap_servers: str, command: LedgerEntryRequested, *, copies: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for _ in range(copies):  # a redelivered command must not post twice
            attributes = EventAttributes(
                id=f"evt_{uuid.uuid4().hex}", source="test", type="ledger.entry.requested", time=datetime.now(UTC)
            )
            await producer.send_and_wait(
                "ledger.entry.requested",
                orjson.dumps(command.model_dump(mode="json")),
                key=command.ik.encode(),
                headers=cloudevents.encode(attributes),
            )
    finally:
        await producer.stop()


async def test_entry_command_posts_once_and_publishes(
    ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool, kafka_bootstrap_servers: str
) -> None:
    client = ledger_client
    ledger = (await client.post("/ledgers", json={"name": "commands"})).json()
    ledger_id = ledger["ledger_id"]
    assert (await client.post(f"/ledgers/{ledger_id}/schema/shipped/bulk_split")).status_code == 201
    received = await client.post(
        f"/ledgers/{ledger_id}/reconcile",
        json={
            "type": "received_bulk_payment",
            "ik": "bulk",
            "parameters": {"amount": "2500"},
            "external_transaction": {"id": "bank_1", "amount_minor": 2500, "currency": "EUR"},
        },
    )
    assert received.status_code == 201, received.text
    ik = f"split-{uuid.uuid4().hex[:8]}"
    command = LedgerEntryRequested(
        ledger_id=ledger_id,
        entry_type="split_bulk_payment",
        ik=ik,
        parameters={"user_id": "usr_1", "amount": "2500", "currency": "EUR"},
        description="from a command",
    )
    await send_command(kafka_bootstrap_servers, command, copies=2)

    async def posted() -> Any:
        response = await client.get(f"/ledgers/{ledger_id}/entries/{ik}")
        return response.json() if response.status_code == 200 else None

    entry = await wait_until(posted, "the commanded entry is posted", timeout_s=WAIT_S_MAX, interval_s=0.2)
    assert entry["type"] == "split_bulk_payment" and entry["description"] == "from a command"
    assert entry["currency"] == "EUR"

    async def published() -> Any:
        async with ledger_pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT topic FROM outbox WHERE published_at IS NOT NULL
                   AND topic IN ('ledger.entry.posted', 'ledger.clearing.cleared')
                   AND payload ->> 'ledger_id' = $1""",
                ledger_id,
            )
        topics = sorted(row["topic"] for row in rows)
        return topics if len(topics) == 3 else None

    assert await wait_until(published, "the entry events are published", timeout_s=WAIT_S_MAX, interval_s=0.2) == [
        "ledger.clearing.cleared",
        "ledger.entry.posted",
        "ledger.entry.posted",
    ]
    async with ledger_pool.acquire() as connection:
        count = await connection.fetchval("SELECT count(*) FROM ledger_entries WHERE ik = $1", ik)
    assert count == 1
