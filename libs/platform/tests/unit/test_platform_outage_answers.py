"""Issue 12, defect 3: requests answered `500 unhandled error` while PostgreSQL restarted.

An outage of a dependency is a 503 with `Retry-After` and a stable code, and it is logged once
when it starts and once when it ends, not once per request.
"""

from __future__ import annotations

import logging

import asyncpg
import httpx
import pytest
from fastapi import APIRouter

from clearway.platform.failures import OutageLog, failed_dependency, is_infrastructure_failure
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings

router = APIRouter()
database_up = {"value": False}


@router.post("/transfers")
async def transfer() -> dict[str, str]:
    if not database_up["value"]:
        raise ConnectionRefusedError(111, "Connect call failed")
    return {"status": "ok"}


@router.post("/bugs")
async def bug() -> dict[str, str]:
    raise KeyError("a programming error")


@router.post("/ledger-call")
async def ledger_call() -> dict[str, str]:
    raise httpx.ConnectError("ledger unreachable")


def app_client() -> httpx.AsyncClient:
    app = create_http_app(settings=ServiceSettings(), title="t", version="0", routers=[router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


async def test_a_database_outage_answers_503_not_500_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    database_up["value"] = False
    caplog.set_level(logging.INFO, logger="clearway.http.error")
    async with app_client() as client:
        answers = [await client.post("/transfers") for _ in range(20)]
        database_up["value"] = True
        recovered = await client.post("/transfers")
    assert {answer.status_code for answer in answers} == {503}
    problem = answers[0].json()
    assert problem["code"] == "DATABASE_UNAVAILABLE" and problem["dependency"] == "database"
    assert answers[0].headers["retry-after"] == "2"
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert recovered.status_code == 200
    lines = [record.getMessage() for record in caplog.records if record.name == "clearway.http.error"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("database unavailable") and "failures meanwhile: 20" in lines[1]


async def test_an_unreachable_http_dependency_is_503_and_a_bug_is_still_500() -> None:
    async with app_client() as client:
        unreachable = await client.post("/ledger-call")
        bug = await client.post("/bugs")
    assert (unreachable.status_code, unreachable.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")
    assert (bug.status_code, bug.json()["code"]) == (500, "INTERNAL_ERROR")


def test_failures_are_classified_through_their_cause_chain() -> None:
    try:
        try:
            raise asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
        except asyncpg.exceptions.AdminShutdownError as error:
            raise RuntimeError("commit failed") from error
    except RuntimeError as wrapped:
        assert is_infrastructure_failure(wrapped)
        assert failed_dependency(wrapped) == "database"
    assert not is_infrastructure_failure(ValueError("bad input"))


def test_a_connection_left_mid_protocol_by_a_postgresql_restart_is_an_outage_not_a_bug() -> None:
    # Found by `make chaos`: the next transaction on a connection whose rollback failed during a
    # PostgreSQL restart raised this, and the ledger answered 500 instead of 503.
    error = asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation (2) is in progress")
    assert is_infrastructure_failure(error)
    assert failed_dependency(error) == "database"


def test_outage_log_starts_a_new_outage_after_a_quiet_period() -> None:
    now = {"s": 0.0}
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.outages")
    logger.addHandler(Capture())
    outages = OutageLog(logger, quiet_period_s=30, clock=lambda: now["s"])
    error = ConnectionRefusedError()
    for second in range(10):
        now["s"] = float(second)
        outages.failed("database", error)
    now["s"] = 100.0
    outages.failed("database", error)  # long after the last failure: a new outage
    assert sum(message.startswith("database unavailable") for message in records) == 2
    outages.succeeded()
    outages.succeeded()
    assert sum("back after" in message for message in records) == 1
    assert outages.in_progress == frozenset()
