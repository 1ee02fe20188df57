"""Issue 12: the platform as a returning user and a bad day see it.

- Restart on the same data: every demo flow runs, the whole platform stops and starts again on
  the same databases (as Ctrl-C and `make run` do), and every demo flow runs again.
- Faults mid-flow: the chaos harness (tests/chaos, `make chaos`) at CI size: while ledger transfers
  (HTTP with their Idempotency-Key, and Kafka commands), processor deposits, post-fundings,
  end users' withdrawals and card authorizations (HTTP and Kafka) are in flight, the ledger,
  funding, authorization and payout are killed with SIGKILL and restarted, and PostgreSQL is
  restarted under them. Afterwards every acknowledged request has exactly one effect, the books
  verify, no open hold belongs to a finished workflow, every event is applied once, every read
  endpoint answers, and a top-up works.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearway.devstack.stack import Platform, start_platform
from clearway.devstack.testing import wait_until
from tests.chaos.config import CI
from tests.chaos.harness import new_balances, run_chaos
from tests.chaos.report import table

from .demo import run_demo_flows
from .topups_scenario import TopupApi, approved_topup

pytestmark = pytest.mark.e2e

# Funding and payout ask the provider about a silent push after this long (30 s in production).
FAST_STATUS_QUERY_ENV = {
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_AFTER_MS": "2000",
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_INTERVAL_MS": "1000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_AFTER_MS": "2000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_INTERVAL_MS": "1000",
}
SETTLE_WAIT_S_MAX = 120.0


def say(message: str) -> None:
    print(f"  {message}", flush=True)


def platform_on(prefix: str, key: str, postgres_url: str | None, kafka: str | None, work_dir: Path) -> Platform:
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


async def test_killed_services_and_a_postgres_restart_lose_and_double_nothing(tmp_path: Path) -> None:
    """The chaos harness (`make chaos`) at CI size: its invariants, then outage answers and a top-up."""
    key, run_id = secrets.token_urlsafe(32), uuid.uuid4().hex[:8]
    # Its own PostgreSQL server, so the test can restart it without touching the session's, and its
    # own broker: on the session's, its fresh consumer groups read every earlier test's commands from
    # the start (balances its ledger never had: dead letters, and its own commands late; found in a
    # clean-clone run, where this test runs after the others).
    platform = await asyncio.to_thread(platform_on, f"fault_{run_id}", key, None, None, tmp_path / "platform")
    try:
        summary = await run_chaos(platform, CI, run_id=run_id)
        print(table(summary))
        assert summary.ok, table(summary)
        urls = urls_of(platform)
        balances = await new_balances(platform, 1, run_id)
        await expect_reads_answer(urls, key, balances)
        await expect_503_while_postgres_is_down(platform, urls, key, balances)
        await expect_reads_answer(urls, key, balances)
        async with TopupApi(urls["funding"], urls["ledger"], key) as topups:
            await approved_topup(topups, say)
    finally:
        await asyncio.to_thread(platform.stop)


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
