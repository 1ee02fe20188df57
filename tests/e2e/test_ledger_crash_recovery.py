"""Fault test: the ledger is killed (SIGKILL) in the middle of a stream of Kafka transfer commands.

After a restart every command must be applied exactly once: the balances equal what the
commands say, each reference exists once, and the books still balance. Nothing the ledger
acknowledged is lost (offsets commit only after the batch's transaction) and nothing redelivered
is doubled (each command's reference is its idempotency key).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.devstack.stack import Platform
from clearway.devstack.testing import wait_until

pytestmark = pytest.mark.e2e

COMMANDS = 3_000
BALANCES = 10
WAIT_S_MAX = 120


async def test_ledger_killed_mid_stream_applies_every_command_once(running_platform: Platform) -> None:
    platform = running_platform
    run_id = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(
        base_url=platform.url("ledger"), headers={"X-Blnk-Key": platform.api_key}, timeout=30
    ) as client:
        ledger = (await client.post("/ledgers", json={"name": f"crash {run_id}"})).json()
        balances = [
            (await client.post("/balances", json={"ledger_id": ledger["ledger_id"], "currency": "USD"})).json()[
                "balance_id"
            ]
            for _ in range(BALANCES)
        ]
        expected: Counter[str] = Counter()
        commands = []
        for index in range(COMMANDS):
            destination = balances[index % BALANCES]
            amount_minor = 1 + index % 7
            expected[destination] += amount_minor
            commands.append(
                {
                    "reference": f"crash-{run_id}-{index}",
                    "amount_minor": amount_minor,
                    "currency": "USD",
                    "source": "@CrashTestFunding-USD",
                    "destination": destination,
                    "allow_overdraft": True,
                }
            )

        producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap_servers, acks="all", linger_ms=5)
        await producer.start()
        try:
            for index, command in enumerate(commands):
                attributes = EventAttributes(
                    id=f"cmd-{run_id}-{index}",
                    source="urn:clearway:e2e",
                    type="ledger.transaction.requested",
                    time=datetime.now(UTC),
                    subject=str(command["reference"]),
                )
                await producer.send(
                    "ledger.transaction.requested",
                    value=orjson.dumps(command),
                    key=str(command["destination"]).encode(),
                    headers=cloudevents.encode(attributes),
                )
                if index == COMMANDS // 3:
                    await producer.flush()
                    await _wait_until_some_applied(client, balances)
                    # The middle of the stream: some batches committed, some in flight, most unread.
                    await asyncio.to_thread(platform.stop_service, "ledger", graceful=False)
            await producer.flush()
        finally:
            await producer.stop()
        await asyncio.to_thread(platform.start_service, "ledger")

        async def every_command_applied() -> bool:
            actual = {b: (await client.get(f"/balances/{b}")).json()["balance"] for b in balances}
            return actual == dict(expected)

        await wait_until(
            every_command_applied,
            "every balance holds what its commands add up to",
            timeout_s=WAIT_S_MAX,
            interval_s=0.5,
        )

    connection = await asyncpg.connect(platform.database_url("ledger").replace("+asyncpg", ""))
    try:
        counts = await connection.fetchrow(
            "SELECT count(*) AS rows, count(DISTINCT reference) AS refs FROM transactions WHERE reference LIKE $1",
            f"crash-{run_id}-%",
        )
        assert counts["rows"] == COMMANDS == counts["refs"]
        unbalanced = await connection.fetchval(
            "SELECT count(*) FROM (SELECT currency, bucket FROM entries GROUP BY currency, bucket "
            "HAVING sum(debit_minor) <> sum(credit_minor)) AS t"
        )
        assert unbalanced == 0
    finally:
        await connection.close()


async def _wait_until_some_applied(client: httpx.AsyncClient, balances: list[str]) -> None:
    async def some_applied() -> bool:
        for balance_id in balances:
            if (await client.get(f"/balances/{balance_id}")).json()["balance"]:
                return True
        return False

    await wait_until(some_applied, "a command is applied before the crash point", timeout_s=30, interval_s=0.05)
