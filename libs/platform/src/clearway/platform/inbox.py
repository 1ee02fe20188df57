"""The consumer inbox: exactly-once effects on an at-least-once bus.

A handler calls `record_once` in the same transaction as its effects. The first delivery
inserts `(consumer, event_id)`; a redelivery finds the row (or waits on the first delivery's
uncommitted insert, then finds it) and skips its work, so the effects happen once.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.tables import inbox


async def record_once(session: AsyncSession, consumer: str, event_id: str, topic: str) -> bool:
    """Record that `consumer` handles `event_id`; False if it already did (skip the work then)."""
    assert consumer and event_id, "inbox rows need a consumer and an event id"
    inserted = await session.scalar(
        insert(inbox)
        .values(consumer=consumer, event_id=event_id, topic=topic)
        .on_conflict_do_nothing(index_elements=[inbox.c.consumer, inbox.c.event_id])
        .returning(inbox.c.event_id)
    )
    return inserted is not None


class SqlInbox:
    """The inbox on a unit of work's session (`uow.inbox.record_once(...)`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        return await record_once(self._session, consumer, event_id, topic)
