"""Every API fuzzed (issue 14 §1): Schemathesis against each service's own OpenAPI, in-process on
real PostgreSQL and the real broker, authenticated as admin. No 5xx, only documented statuses,
content types and bodies, and every error a problem+json document with a `code`.

`make test` runs a bounded, deterministic pass (FUZZ_EXAMPLES per operation and generation mode,
Hypothesis derandomised). `make fuzz` runs the same test with more examples and a seed, and writes
the summary (operations, requests, failures by kind, per service) to FUZZ_SUMMARY.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.devstack.databases import with_database
from clearway.devstack.testing import LoopBridge

from .harness import ServiceReport, failures_summary, fuzz_service
from .services import ADMIN_KEY, FUZZ_TARGETS, fuzz_ledger

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("FUZZ_SEED", "0"))
SUMMARY_PATH = os.environ.get("FUZZ_SUMMARY", "")
REQUEST_TIMEOUT_S = 60
# One service's run in `make test` stays well under this; `make fuzz` may take longer.
SERVICE_RUN_TIMEOUT_S = int(os.environ.get("FUZZ_SERVICE_TIMEOUT_S", "600"))

_reports: dict[str, ServiceReport] = {}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def ledger_app(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[FastAPI]:
    """One ledger for the module (fuzzed, and called by the others), on a database of its own:
    `make_database` is per test, so this one is created and dropped here."""
    name = f"t_fuzzledger_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(postgres_server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

    async def this_database(_prefix: str) -> str:
        return with_database(postgres_server_url, name, driver="asyncpg")

    try:
        async with fuzz_ledger(this_database, kafka_bootstrap_servers) as app:
            yield app
    finally:
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.mark.parametrize("service", sorted(FUZZ_TARGETS))
async def test_fuzzed_api_answers_only_documented_responses(
    service: str,
    make_database: Callable[[str], Awaitable[str]],
    kafka_bootstrap_servers: str,
    ledger_app: FastAPI,
) -> None:
    target = FUZZ_TARGETS[service]
    async with (
        target.start(make_database, kafka_bootstrap_servers, ledger_app) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fuzz") as client,
    ):
        bridge = LoopBridge(asyncio.get_running_loop(), timeout_s=REQUEST_TIMEOUT_S)
        report = await asyncio.wait_for(
            asyncio.to_thread(
                fuzz_service,
                service,
                _openapi(app),
                send=client.send,
                run_on_loop=bridge.run,
                api_key=ADMIN_KEY,
                examples=EXAMPLES,
                seed=SEED,
                excluded=target.excluded,
            ),
            timeout=SERVICE_RUN_TIMEOUT_S,
        )
    _reports[service] = report
    if SUMMARY_PATH:
        _write_summary(Path(SUMMARY_PATH))
    assert report.operations > 0 and report.requests >= report.operations, report.as_json()
    assert not report.failures, f"{dict(report.failures)}\n{failures_summary([report])}"


def _openapi(app: FastAPI) -> dict[str, object]:
    document: dict[str, object] = app.openapi()
    copied: dict[str, object] = json.loads(json.dumps(document))  # Schemathesis may resolve it in place
    return copied


def _write_summary(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    services = {name: report.as_json() for name, report in sorted(_reports.items())}
    summary = {
        "examples_per_operation_and_mode": EXAMPLES,
        "seed": SEED,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "totals": {
            "services": len(services),
            "operations": sum(report.operations for report in _reports.values()),
            "requests": sum(report.requests for report in _reports.values()),
            "failures": sum(sum(report.failures.values()) for report in _reports.values()),
        },
        "services": services,
    }
    path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
