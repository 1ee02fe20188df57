"""Issue 12: the platform as a returning user and a bad day see it.

- Restart on the same data: every demo flow runs, the whole platform stops and starts again on
  the same databases (as Ctrl-C and `make run` do), and every demo flow runs again.
- Faults mid-flow: while ledger transfers (HTTP, retried with their Idempotency-Key) and
  processor deposits (Kafka) are in flight, the ledger and funding are killed with SIGKILL and
  restarted, and PostgreSQL is restarted under them. Afterwards every acknowledged transfer and
  deposit exists exactly once, the books verify, every read endpoint answers, and a top-up works.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from clearway.devstack.stack import Platform, start_platform
from clearway.devstack.testing import wait_until

from .demo import run_demo_flows
from .topups_scenario import TopupApi, approved_topup
from .walking_skeleton import Processor, new_event_id, new_transfer

pytestmark = pytest.mark.e2e

# Funding asks the provider about a silent push after this long (30 s in production).
FAST_STATUS_QUERY_ENV = {
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_AFTER_MS": "2000",
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_INTERVAL_MS": "1000",
}
TRANSFERS = 240
TRANSFERS_IN_FLIGHT = 6
DEPOSITS = 24
BALANCES = 4
RETRY_DEADLINE_S = 180.0
RETRY_PAUSE_S = 0.2
SETTLE_WAIT_S_MAX = 120.0


def say(message: str) -> None:
    print(f"  {message}", flush=True)


def platform_on(prefix: str, key: str, postgres_url: str | None, kafka: str, work_dir: Path) -> Platform:
    return start_platform(
        postgres_server_url=postgres_url,
        kafka_bootstrap_servers=kafka,
        database_prefix=prefix,
        api_key=key,
        work_dir=work_dir,
        stream_logs=False,
        extra_env=FAST_STATUS_QUERY_ENV,
        # The session's platform shares this broker; its consumers must not take our partitions.
        consumer_group_prefix=f"{prefix}.",
    )


def urls_of(platform: Platform) -> dict[str, str]:
    return {service: platform.url(service) for service in platform.services}


async def test_the_demo_passes_again_after_the_platform_restarts_on_the_same_data(
    postgres_server_url: str, kafka_bootstrap_servers: str, tmp_path: Path
) -> None:
    prefix, key = f"restart_{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    for run in ("first run", "after a restart"):
        print(f"-- {run}")
        platform = await asyncio.to_thread(
            platform_on, prefix, key, postgres_server_url, kafka_bootstrap_servers, tmp_path / run.replace(" ", "-")
        )
        try:
            assert platform.approver_api_key is not None
            await run_demo_flows(
                urls_of(platform),
                kafka_bootstrap_servers,
                key,
                say,
                approver=platform.approver_api_key,
                mint_token=platform.user_token,
                group_prefix=platform.consumer_group_prefix,
            )
        finally:
            await asyncio.to_thread(platform.stop)


class Workload:
    """Ledger transfers over HTTP, each retried with its own Idempotency-Key until acknowledged."""

    def __init__(self, ledger_url: str, key: str, balances: list[str], run_id: str) -> None:
        self.client = httpx.AsyncClient(base_url=ledger_url, headers={"X-Blnk-Key": key}, timeout=10)
        self.balances = balances
        self.run_id = run_id
        self.expected: Counter[str] = Counter()
        self.acknowledged: list[str] = []
        self.answers: Counter[int] = Counter()

    async def transfer(self, index: int) -> None:
        destination = self.balances[index % len(self.balances)]
        reference = f"fault-{self.run_id}-{index}"
        body = {
            "precise_amount": 1 + index % 5,
            "precision": 100,
            "currency": "USD",
            "reference": reference,
            "source": "@FaultTestFunding",
            "destination": destination,
            "allow_overdraft": True,
        }
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                answer = await self.client.post("/transactions", json=body, headers={"Idempotency-Key": reference})
            except httpx.TransportError:
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            self.answers[answer.status_code] += 1
            if answer.status_code < 300:
                self.expected[destination] += 1 + index % 5
                self.acknowledged.append(reference)
                return
            # 409 (the same key still in flight) and 503 (an outage) are the answers to wait out.
            assert answer.status_code in (409, 503), f"{answer.status_code} {answer.text}"
            assert answer.headers.get("content-type") == "application/problem+json"
            await asyncio.sleep(RETRY_PAUSE_S)
        raise AssertionError(f"transfer {reference} never acknowledged")

    async def run(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(TRANSFERS):
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                await self.transfer(queue.get_nowait())
                await asyncio.sleep(0.02)

        await asyncio.gather(*(worker() for _ in range(TRANSFERS_IN_FLIGHT)))


async def inject_faults(platform: Platform, workload: Workload, faults: list[str]) -> None:
    async def after(acknowledged: int) -> None:
        await wait_until(
            lambda: len(workload.acknowledged) >= acknowledged,
            f"the workload has {acknowledged} acknowledged transfers",
            timeout_s=RETRY_DEADLINE_S,
            interval_s=0.05,
        )

    await after(TRANSFERS // 5)
    await asyncio.to_thread(platform.stop_service, "ledger", graceful=False)
    await asyncio.to_thread(platform.start_service, "ledger")
    faults.append("ledger SIGKILL + restart")
    await after(2 * TRANSFERS // 5)
    await asyncio.to_thread(platform.stop_service, "funding", graceful=False)
    await asyncio.to_thread(platform.start_service, "funding")
    faults.append("funding SIGKILL + restart")
    await after(3 * TRANSFERS // 5)
    await asyncio.to_thread(platform.restart_postgres)
    faults.append("PostgreSQL restart")


async def publish_deposits(processor: Processor, transfer_ids: list[str]) -> None:
    for index in range(DEPOSITS):
        body = new_transfer(10_000 + index)
        await processor.publish(body, event_id=new_event_id())
        transfer_ids.append(str(body["transfer_id"]))
        await asyncio.sleep(0.15)


async def test_killed_services_and_a_postgres_restart_lose_and_double_nothing(
    kafka_bootstrap_servers: str, tmp_path: Path
) -> None:
    key, run_id = secrets.token_urlsafe(32), uuid.uuid4().hex[:8]
    # Its own PostgreSQL server, so the test can restart it without touching the session's.
    platform = await asyncio.to_thread(
        platform_on, f"fault_{run_id}", key, None, kafka_bootstrap_servers, tmp_path / "platform"
    )
    try:
        urls = urls_of(platform)
        async with httpx.AsyncClient(base_url=urls["ledger"], headers={"X-Blnk-Key": key}, timeout=30) as ledger:
            ledger_id = (await ledger.post("/ledgers", json={"name": f"faults {run_id}"})).json()["ledger_id"]
            balances = [
                (await ledger.post("/balances", json={"ledger_id": ledger_id, "currency": "USD"})).json()["balance_id"]
                for _ in range(BALANCES)
            ]
        workload = Workload(urls["ledger"], key, balances, run_id)
        faults: list[str] = []
        transfer_ids: list[str] = []
        async with Processor(kafka_bootstrap_servers) as processor:
            await asyncio.gather(
                workload.run(), inject_faults(platform, workload, faults), publish_deposits(processor, transfer_ids)
            )
        print(f"faults: {faults}; answers while they ran: {dict(workload.answers)}")
        assert len(faults) == 3 and len(workload.acknowledged) == TRANSFERS

        await expect_balances(urls["ledger"], key, workload.expected)
        await expect_exactly_once(platform, run_id, transfer_ids)
        verify = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "clearway.ledger.verify", "--database-url", platform.database_url("ledger")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        await expect_reads_answer(urls, key, balances)
        await expect_503_while_postgres_is_down(platform, urls, key, balances)
        await expect_reads_answer(urls, key, balances)
        async with TopupApi(urls["funding"], urls["ledger"], key) as topups:
            await approved_topup(topups, say)
    finally:
        await asyncio.to_thread(platform.stop)


async def expect_balances(ledger_url: str, key: str, expected: Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=ledger_url, headers={"X-Blnk-Key": key}, timeout=30) as ledger:

        async def balances_match() -> bool:
            actual = {balance: (await ledger.get(f"/balances/{balance}")).json()["balance"] for balance in expected}
            return actual == dict(expected)

        await wait_until(
            balances_match,
            "ledger balances equal the acknowledged transfers",
            timeout_s=SETTLE_WAIT_S_MAX,
            interval_s=0.5,
        )


async def expect_exactly_once(platform: Platform, run_id: str, transfer_ids: list[str]) -> None:
    ledger = await asyncpg.connect(platform.database_url("ledger").replace("+asyncpg", ""))
    try:
        counts = await ledger.fetchrow(
            "SELECT count(*) AS rows, count(DISTINCT reference) AS refs FROM transactions WHERE reference LIKE $1",
            f"fault-{run_id}-%",
        )
    finally:
        await ledger.close()
    assert counts["rows"] == counts["refs"] == TRANSFERS
    funding = await asyncpg.connect(platform.database_url("funding").replace("+asyncpg", ""))
    try:

        async def deposits_per_transfer() -> dict[str, int] | None:
            rows = await funding.fetch(
                "SELECT transfer_id, count(*) AS n FROM deposits WHERE transfer_id = ANY($1) GROUP BY transfer_id",
                transfer_ids,
            )
            found = {row["transfer_id"]: row["n"] for row in rows}
            return found if len(found) == DEPOSITS else None

        per_transfer = await wait_until(
            deposits_per_transfer, "funding holds every published deposit", timeout_s=SETTLE_WAIT_S_MAX, interval_s=0.5
        )
    finally:
        await funding.close()
    assert per_transfer == dict.fromkeys(transfer_ids, 1)


async def expect_reads_answer(urls: dict[str, str], key: str, balances: list[str]) -> None:
    reads: list[tuple[str, str]] = [
        ("ledger", f"/balances/{balances[0]}"),
        ("ledger", "/transactions"),
        ("funding", "/deposits"),
        ("funding", "/payables"),
        ("funding", "/fundings"),
        ("reconciliation", "/external-transactions"),
    ]
    headers: dict[str, Any] = {"X-API-Key": key}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for service, path in reads:
            answer = await client.get(urls[service] + path)
            assert answer.status_code == 200, f"{service} GET {path}: {answer.status_code} {answer.text[:300]}"


async def expect_503_while_postgres_is_down(
    platform: Platform, urls: dict[str, str], key: str, balances: list[str]
) -> None:
    """Issue 12, defect 3: an outage is 503 with Retry-After and a stable code, never a 500."""
    headers = {"X-API-Key": key}
    transfer = {
        "precise_amount": 1,
        "precision": 100,
        "currency": "USD",
        "reference": f"outage-{uuid.uuid4().hex}",
        "source": "@FaultTestFunding",
        "destination": balances[0],
        "allow_overdraft": True,
    }
    await asyncio.to_thread(platform.stop_postgres)
    try:
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            answers = [
                await client.post(urls["ledger"] + "/transactions", json=transfer),
                await client.get(urls["funding"] + "/deposits"),
                await client.get(urls["ledger"] + f"/balances/{balances[0]}"),
            ]
            readiness = [(await client.get(urls[s] + "/health/ready")).status_code for s in ("ledger", "funding")]
    finally:
        await asyncio.to_thread(platform.start_postgres)
    for answer in answers:
        assert answer.status_code == 503, f"{answer.request.url}: {answer.status_code} {answer.text[:300]}"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] and answer.json()["code"] == "DATABASE_UNAVAILABLE"
    assert readiness == [503, 503]
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for service in ("ledger", "funding"):

            async def ready(service: str = service) -> bool:
                return (await client.get(urls[service] + "/health/ready")).status_code == 200

            await wait_until(
                ready,
                f"{service} is ready again after PostgreSQL came back",
                timeout_s=SETTLE_WAIT_S_MAX,
                interval_s=0.25,
            )
        applied = await client.post(urls["ledger"] + "/transactions", json=transfer)
        assert applied.status_code == 201, applied.text
