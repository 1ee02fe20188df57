"""Running one service's app in-process for integration tests: its lifespan (engine, relay,
consumers) started against real infrastructure, and an authenticated client on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI


@contextlib.asynccontextmanager
async def running_app(
    app: FastAPI,
    *,
    api_key: str,
    base_url: str,
    key_header: str = "X-API-Key",
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """`async with running_app(create_app(settings), api_key=..., base_url="http://funding") as client`.
    Leaving the block stops the app's lifespan."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport or httpx.ASGITransport(app=app), base_url=base_url, headers={key_header: api_key}
        ) as client,
    ):
        yield client
