"""All SQL of the dead letters: record one once, page through them newest first, count them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import Boolean, RowMapping, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clearway.platform.dead_letters.entries import DeadLetterEntry
from clearway.platform.ids import new_id
from clearway.platform.tables import dead_letters

logger = logging.getLogger(__name__)

DEAD_LETTER_ID_PREFIX = "dlq"
# A service has a handful of topics; the bound keeps a count answer small whatever happens.
COUNTED_TOPICS_MAX = 1_000
_CONTENT = ("event_id", "message_key", "payload_preview")


class Recorded(StrEnum):
    INSERTED = "inserted"
    REPEAT = "repeat"  # the same record at the same place: already recorded, nothing changes
    REPLACED = "replaced"  # another record at the same place: the broker's offsets started over


async def record_dead_letter(connection: AsyncConnection, entry: DeadLetterEntry) -> Recorded:
    """One row per (group, topic, partition, offset). A second dead-lettering of the same record
    (a redelivery after a crash before the offset commit) changes nothing. A different record at the
    same place can only mean the broker's offsets started over (the embedded broker keeps its log in
    memory while the database persists): the newer dead letter is the one an operator can act on,
    so it takes the place."""
    values = {
        "id": new_id(DEAD_LETTER_ID_PREFIX),
        "group_id": entry.group_id,
        "topic": entry.topic,
        "partition": entry.partition,
        "offset": entry.offset,
        "message_key": entry.message_key,
        "reason": entry.reason,
        "attempts": entry.attempts,
        "event_id": entry.event_id,
        "event_type": entry.event_type,
        "headers": entry.headers,
        "payload_preview": entry.payload_preview,
        "payload_bytes": entry.payload_bytes,
    }
    statement = insert(dead_letters).values(**values)
    replaced = {name: statement.excluded[name] for name in values if name not in ("group_id", "topic")}
    upsert = statement.on_conflict_do_update(
        constraint="uq_dead_letters_position",
        set_={**replaced, "dead_lettered_at": func.now()},
        where=tuple_(*(dead_letters.c[name] for name in _CONTENT)).is_distinct_from(
            tuple_(*(statement.excluded[name] for name in _CONTENT))
        ),
    )
    inserted: bool | None = await connection.scalar(upsert.returning(literal_column("xmax = 0", Boolean)))
    if inserted is None:
        return Recorded.REPEAT
    if not inserted:
        logger.warning(
            "dead letter %s-%d@%d replaces an earlier one at the same offset (the broker started over?)",
            entry.topic,
            entry.partition,
            entry.offset,
        )
        return Recorded.REPLACED
    return Recorded.INSERTED


async def list_dead_letters(
    connection: AsyncConnection, *, topic: str | None, starting_after: str | None, fetch_limit: int
) -> Sequence[RowMapping]:
    """Newest first (ids sort by time), after the cursor: up to `fetch_limit` rows."""
    assert fetch_limit >= 1
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(fetch_limit)
    if topic is not None:
        query = query.where(dead_letters.c.topic == topic)
    if starting_after is not None:
        query = query.where(dead_letters.c.id < starting_after)
    return (await connection.execute(query)).mappings().all()


async def get_dead_letter(connection: AsyncConnection, dead_letter_id: str) -> RowMapping | None:
    return (
        (await connection.execute(select(dead_letters).where(dead_letters.c.id == dead_letter_id))).mappings().first()
    )


async def count_dead_letters(connection: AsyncConnection) -> dict[str, int]:
    """Dead letters by topic (the total is their sum)."""
    query = (
        select(dead_letters.c.topic, func.count())
        .group_by(dead_letters.c.topic)
        .order_by(dead_letters.c.topic)
        .limit(COUNTED_TOPICS_MAX)
    )
    return {topic: count for topic, count in (await connection.execute(query)).all()}


class SqlDeadLetterLog:
    """Where the consumer runner records what it dead-lettered: the service's own database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, entry: DeadLetterEntry) -> Recorded:
        async with self._engine.begin() as connection:
            return await record_dead_letter(connection, entry)
