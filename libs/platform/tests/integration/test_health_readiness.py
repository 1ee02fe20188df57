from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import httpx
import pytest

from clearway.devstack.ports import find_free_port
from clearway.devstack.testing import wait_until
from clearway.platform.db import create_engine
from clearway.platform.health import ReadinessCheck, database_check, kafka_check
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings

pytestmark = pytest.mark.integration

TANSU_BINARIES = sorted((Path.home() / ".calfkit" / "bin").glob("tansu*"))


async def get_ready(checks: Mapping[str, ReadinessCheck]) -> httpx.Response:
    app = create_http_app(settings=ServiceSettings(), title="t", version="0", readiness_checks=checks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/health/ready")


async def test_ready_with_a_live_database(make_database: Callable[[str], Awaitable[str]]) -> None:
    engine = create_engine(await make_database("health"), pool_size=1)
    try:
        response = await get_ready({"database": database_check(engine)})
    finally:
        await engine.dispose()
    assert (response.status_code, response.json()) == (200, {"status": "ready", "checks": {"database": "ok"}})


async def test_unavailable_when_the_database_is_unreachable() -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/nowhere", pool_size=1)
    started = time.perf_counter()
    try:
        response = await get_ready({"database": database_check(engine)})
    finally:
        await engine.dispose()
    assert time.perf_counter() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error: ")


async def test_ready_with_a_live_broker(kafka_bootstrap_servers: str) -> None:
    response = await get_ready({"kafka": kafka_check(kafka_bootstrap_servers)})
    assert (response.status_code, response.json()["checks"]) == (200, {"kafka": "ok"})


async def test_unavailable_when_the_broker_port_is_closed() -> None:
    response = await get_ready({"kafka": kafka_check(f"127.0.0.1:{find_free_port()}")})
    assert response.status_code == 503
    assert response.json()["checks"]["kafka"].startswith("error: ")


@pytest.mark.skipif(not TANSU_BINARIES, reason="no Tansu binary in ~/.calfkit/bin")
async def test_unavailable_within_five_seconds_of_the_broker_stopping() -> None:
    port = find_free_port()
    listener = f"tcp://127.0.0.1:{port}"
    broker = await asyncio.create_subprocess_exec(
        str(TANSU_BINARIES[-1]),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        "--storage-engine",
        "memory://tansu/",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    checks = {"kafka": kafka_check(f"127.0.0.1:{port}")}
    try:

        async def ready() -> bool:
            return (await get_ready(checks)).status_code == 200

        # The broker takes a moment to listen.
        await wait_until(ready, "the broker is ready", timeout_s=30, interval_s=0.1)
        broker.terminate()
        await broker.wait()
        stopped = time.perf_counter()
        response = await get_ready(checks)
        assert response.status_code == 503
        assert time.perf_counter() - stopped < 5
    finally:
        if broker.returncode is None:
            broker.kill()
            await broker.wait()
