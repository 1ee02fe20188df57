from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from clearway.platform.health import parse_bootstrap_servers, run_readiness_checks
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings


async def healthy() -> None:
    return None


async def broken() -> None:
    raise ConnectionRefusedError("connection refused")


async def hung() -> None:
    await asyncio.sleep(60)


async def test_checks_run_concurrently_and_each_is_bounded() -> None:
    started = time.perf_counter()
    ready, checks = await run_readiness_checks(
        {"database": healthy, "kafka": broken, "ledger": hung, "other": hung}, timeout_s=0.2
    )
    assert time.perf_counter() - started < 1.0
    assert not ready
    assert checks == {
        "database": "ok",
        "kafka": "error: ConnectionRefusedError: connection refused",
        "ledger": "error: timed out after 0.2s",
        "other": "error: timed out after 0.2s",
    }


async def test_ready_endpoint_reflects_checks() -> None:
    app = create_http_app(
        settings=ServiceSettings(), title="t", version="0", routers=[], readiness_checks={"database": healthy}
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        ready = await client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"database": "ok"}})
        # A lifespan adds checks it builds at start-up the same way.
        app.state.readiness_checks["kafka"] = broken
        unavailable = await client.get("/health/ready")
        assert unavailable.status_code == 503
        assert unavailable.json()["status"] == "unavailable"
        assert unavailable.json()["checks"]["kafka"].startswith("error: ")
        assert (await client.get("/health/live")).json() == {"status": "ok"}


def test_bootstrap_servers_parse() -> None:
    assert parse_bootstrap_servers("a:9092, b:9093") == [("a", 9092), ("b", 9093)]
    assert parse_bootstrap_servers("[::1]:9092") == [("::1", 9092)]
    with pytest.raises(ValueError):
        parse_bootstrap_servers("nohost")
    with pytest.raises(ValueError):
        parse_bootstrap_servers(" ")
