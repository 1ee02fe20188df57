"""Running one service's app in-process for integration tests: its lifespan (engine, relay,
consumers) started against real infrastructure, and an authenticated client on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from fastapi import FastAPI

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes


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


async def publish_as_processor(
    producer: AIOKafkaProducer, topic: str, body: Mapping[str, Any], *, key: str, event_id: str, source: str
) -> RecordMetadata:
    """Publish exactly what an outside processor sends (ARCHITECTURE.md's public contract):
    CloudEvents binary-mode headers with only the required attributes, a JSON body, the aggregate
    id as key. The headers come from the one codec; the exact bytes of the published contract are
    pinned by libs/contracts' codec tests, so a change to the codec cannot pass unnoticed here."""
    attributes = EventAttributes(id=event_id, source=source, type=topic, time=datetime.now(UTC))
    metadata: RecordMetadata = await producer.send_and_wait(
        topic, orjson.dumps(body), key=key.encode(), headers=cloudevents.encode(attributes)
    )
    return metadata
