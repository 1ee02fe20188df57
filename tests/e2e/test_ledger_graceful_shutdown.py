"""SIGTERM, not a crash (issue 14 §2): the ledger drains a request in flight, answers it, exits
within its bound, and what it answered is there after the restart, once.

The devstack runs each service under uvicorn with a 5 s drain (`--timeout-graceful-shutdown`), then
the lifespan's shutdown stops the consumers (committing what they applied) and the outbox relay.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from clearway.devstack.stack import Platform

pytestmark = pytest.mark.e2e

# The 5 s drain, the lifespan's shutdown and a busy machine's slack. Past STOP_TIMEOUT_S the devstack
# sends SIGKILL: an exit after it would not be a graceful one.
EXIT_BOUND_S = 15.0
STOP_TIMEOUT_S = 45.0
BALANCES = 4
FIRST_SIZE, SIZE_MAX = 1_500, 8_000
IN_FLIGHT_AFTER_S = 0.3


def _bulk(run_id: str, size: int, balances: list[str], expected: Counter[str]) -> dict[str, Any]:
    transactions = []
    for index in range(size):
        destination = balances[index % BALANCES]
        expected[destination] += 1 + index % 3
        transactions.append(
            {
                "precise_amount": 1 + index % 3,
                "precision": 100,
                "currency": "USD",
                "reference": f"graceful-{run_id}-{size}-{index}",
                "source": "@GracefulTestFunding",
                "destination": destination,
                "allow_overdraft": True,
            }
        )
    return {"transactions": transactions}


async def test_sigterm_drains_the_request_in_flight_and_exits_within_its_bound(running_platform: Platform) -> None:
    platform, run_id = running_platform, uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(
        base_url=platform.url("ledger"), headers={"X-Blnk-Key": platform.api_key}, timeout=60
    ) as client:
        ledger = (await client.post("/ledgers", json={"name": f"graceful {run_id}"})).json()
        balances = [
            (await client.post("/balances", json={"ledger_id": ledger["ledger_id"], "currency": "USD"})).json()[
                "balance_id"
            ]
            for _ in range(BALANCES)
        ]
        expected: Counter[str] = Counter()
        # A bulk request big enough to still be running when the signal comes (bigger on a fast machine).
        size = FIRST_SIZE
        while True:
            in_flight = asyncio.create_task(
                client.post("/transactions/bulk", json=_bulk(run_id, size, balances, expected))
            )
            await asyncio.sleep(IN_FLIGHT_AFTER_S)
            if not in_flight.done():
                break
            assert (await in_flight).status_code == 201
            assert size < SIZE_MAX, "the ledger answers even the largest bulk before a signal can reach it"
            size *= 2

        signalled = time.monotonic()
        stopping = asyncio.create_task(
            asyncio.to_thread(platform.stop_service, "ledger", graceful=True, timeout_s=STOP_TIMEOUT_S)
        )
        answer = await in_flight  # drained: answered in full, not cut off
        await stopping
        exited_after_s = time.monotonic() - signalled
        assert answer.status_code == 201, answer.text
        assert (answer.json()["transaction_count"], answer.json()["failed_count"]) == (size, 0)
        assert exited_after_s < EXIT_BOUND_S, f"the ledger took {exited_after_s:.1f} s to exit after SIGTERM"
        with pytest.raises(httpx.TransportError):  # gone, not lingering half-alive
            await client.get("/health/live")
    await asyncio.to_thread(platform.start_service, "ledger")
    async with httpx.AsyncClient(
        base_url=platform.url("ledger"), headers={"X-Blnk-Key": platform.api_key}, timeout=30
    ) as client:
        actual = {b: (await client.get(f"/balances/{b}")).json()["balance"] for b in balances}
        assert actual == dict(expected)  # every answered transfer, once
