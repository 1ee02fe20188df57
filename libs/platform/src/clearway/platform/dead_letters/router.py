"""`GET /admin/dead-letters`: what this service's consumers gave up on, for an operator to list and count.

Mounted by every service that consumes events, with one line in its `main.py`
(`routers=[..., dead_letters_router()]`); it reads the service's own `dead_letters` table through
`app.state.engine` (set by `ServiceRuntime.install`). Operators and read-only principals look; other
roles are refused (403) and a missing credential is 401, as problem+json like every platform error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from clearway.platform.auth import OPERATOR, READ_ONLY, Principal, require_roles
from clearway.platform.dead_letters.repository import count_dead_letters, get_dead_letter, list_dead_letters
from clearway.platform.errors import NotFound
from clearway.platform.pagination import Page, PageParams

DEAD_LETTER_READERS = (OPERATOR, READ_ONLY)  # admin holds every role
TOPIC_LENGTH_MAX = 249  # Kafka's limit on a topic name

Reader = Annotated[Principal, Depends(require_roles(*DEAD_LETTER_READERS))]


class DeadLetterOut(BaseModel):
    id: str
    group_id: str = Field(description="The consumer group that gave up on the record.")
    topic: str = Field(description="The topic the record was read from (it was copied to `<topic>.dlq`).")
    partition: int
    offset: int
    message_key: str | None
    reason: str = Field(description="The last error, masked like the preview.")
    attempts: int = Field(description="Handler attempts made; 0 when the record could not be decoded.")
    event_id: str | None = Field(description="The CloudEvents `ce_id`, when the record had one.")
    event_type: str | None = Field(description="The CloudEvents `ce_type`, when the record had one.")
    headers: dict[str, str] = Field(description="The record's `ce_*` headers, masked.")
    payload_preview: str | None = Field(
        description="The payload, at most 2,000 characters, with phone numbers, IBANs, card numbers and tokens masked."
    )
    payload_bytes: int
    dead_lettered_at: datetime

    @classmethod
    def of(cls, row: RowMapping) -> DeadLetterOut:
        return cls.model_validate(dict(row))


class DeadLetterCount(BaseModel):
    total: int
    by_topic: dict[str, int]


class DeadLetterListParams(PageParams):
    topic: str | None = Field(default=None, min_length=1, max_length=TOPIC_LENGTH_MAX)


def _engine(request: Request) -> AsyncEngine:
    engine: Any = getattr(request.app.state, "engine", None)
    assert isinstance(engine, AsyncEngine), "app.state.engine is set by ServiceRuntime.install in the lifespan"
    return engine


Engine = Annotated[AsyncEngine, Depends(_engine)]


def dead_letters_router() -> APIRouter:
    router = APIRouter(prefix="/admin/dead-letters", tags=["dead letters"])

    @router.get("")
    async def dead_letters(
        _: Reader, engine: Engine, params: Annotated[DeadLetterListParams, Query()]
    ) -> Page[DeadLetterOut]:
        """Newest first; `starting_after` is the last id of the previous page."""
        async with engine.connect() as connection:
            rows = await list_dead_letters(
                connection, topic=params.topic, starting_after=params.starting_after, fetch_limit=params.fetch_limit
            )
        return Page.from_overfetch([DeadLetterOut.of(row) for row in rows], params.limit)

    @router.get("/count")
    async def dead_letter_count(_: Reader, engine: Engine) -> DeadLetterCount:
        """Every dead letter this service recorded, in all and by topic (exact; kept across restarts)."""
        async with engine.connect() as connection:
            by_topic = await count_dead_letters(connection)
        return DeadLetterCount(total=sum(by_topic.values()), by_topic=by_topic)

    @router.get("/{dead_letter_id}")
    async def dead_letter(
        dead_letter_id: Annotated[str, Path(max_length=200)], _: Reader, engine: Engine
    ) -> DeadLetterOut:
        async with engine.connect() as connection:
            row = await get_dead_letter(connection, dead_letter_id)
        if row is None:
            raise NotFound(f"No dead letter {dead_letter_id}.", code="DEAD_LETTER_NOT_FOUND")
        return DeadLetterOut.of(row)

    return router
