"""Liveness and readiness probes.

`/health/live` says the process answers; `/health/ready` says its dependencies answer too, so
an orchestrator stops routing traffic (503) while the database or the broker is unreachable.
Checks run concurrently and each is bounded by a timeout, so one hung dependency cannot hang
the probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka.conn import create_conn
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

# A check returns normally when its dependency is usable and raises otherwise.
ReadinessCheck = Callable[[], Awaitable[None]]

READINESS_CHECK_TIMEOUT_S = 2.0
READINESS_CHECKS_MAX = 20
BOOTSTRAP_SERVERS_MAX = 10
ERROR_MESSAGE_LENGTH_MAX = 200


def _describe_error(error: BaseException) -> str:
    # SQLAlchemy's message embeds the statement and a docs link; the driver's is the useful part.
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    message = lines[0] if lines else ""
    return f"error: {type(cause).__name__}: {message}"[:ERROR_MESSAGE_LENGTH_MAX]


async def _run_check(check: ReadinessCheck, timeout_s: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout=timeout_s)
    except TimeoutError:
        return f"error: timed out after {timeout_s}s"
    except Exception as error:
        return _describe_error(error)
    return "ok"


async def run_readiness_checks(
    checks: Mapping[str, ReadinessCheck], *, timeout_s: float = READINESS_CHECK_TIMEOUT_S
) -> tuple[bool, dict[str, str]]:
    assert len(checks) <= READINESS_CHECKS_MAX, "too many readiness checks"
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[name], timeout_s) for name in names))
    outcome = dict(zip(names, results, strict=True))
    return all(result == "ok" for result in results), outcome


def database_check(engine: AsyncEngine) -> ReadinessCheck:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def parse_bootstrap_servers(bootstrap_servers: str) -> list[tuple[str, int]]:
    servers: list[tuple[str, int]] = []
    for entry in bootstrap_servers.split(",")[:BOOTSTRAP_SERVERS_MAX]:
        entry = entry.strip()
        if not entry:
            continue
        host, separator, port = entry.rpartition(":")
        if not separator or not port.isdigit():
            raise ValueError(f"bootstrap server must be host:port, got {entry!r}")
        servers.append((host.strip("[]"), int(port)))
    if not servers:
        raise ValueError("no bootstrap servers configured")
    return servers


def kafka_check(bootstrap_servers: str, *, timeout_s: float = READINESS_CHECK_TIMEOUT_S) -> ReadinessCheck:
    """Ready when any bootstrap broker completes a Kafka ApiVersions handshake on a fresh connection.

    A fresh connection per probe (instead of a long-lived client's cached state) notices a
    stopped broker on the very next probe: the connect is refused or times out.
    """
    servers = parse_bootstrap_servers(bootstrap_servers)
    request_timeout_ms = max(1, int(timeout_s * 1000))

    async def check() -> None:
        last_error: BaseException | None = None
        for host, port in servers:
            try:
                # create_conn connects and performs the ApiVersions exchange before returning.
                connection = await create_conn(host, port, request_timeout_ms=request_timeout_ms)
            except Exception as error:
                last_error = error
                continue
            connection.close()
            return
        assert last_error is not None
        raise last_error

    return check


def _readiness_checks(request: Request) -> Mapping[str, ReadinessCheck]:
    checks: Any = getattr(request.app.state, "readiness_checks", {})
    assert isinstance(checks, Mapping)
    return checks


def health_router(*, timeout_s: float = READINESS_CHECK_TIMEOUT_S) -> APIRouter:
    """Routes read checks from `app.state.readiness_checks`, so a lifespan can add ones it builds."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", responses={503: {"description": "A dependency is unreachable"}})
    async def ready(request: Request) -> JSONResponse:
        is_ready, checks = await run_readiness_checks(_readiness_checks(request), timeout_s=timeout_s)
        if is_ready:
            return JSONResponse({"status": "ready", "checks": checks}, status_code=200)
        return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)

    return router
