"""Write events into the transactional outbox, inside the caller's transaction.

The event row and the state change that caused it commit together or not at all; the relay
publishes committed rows later. `pg_notify` inside the same transaction is delivered only on
commit, so the relay wakes exactly when there is something it can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import cloudevents
from clearway.contracts.catalogue import topic_for_event
from clearway.contracts.cloudevents import EventAttributes, KafkaHeaders
from clearway.platform.context import current_causation_id, current_correlation_id
from clearway.platform.ids import new_id
from clearway.platform.publishing import require_source_produces
from clearway.platform.tables import OUTBOX_NOTIFY_CHANNEL, outbox

EVENT_ID_PREFIX = "evt"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One outbox row as the relay hands it to a publisher: ready to send, headers encoded and the
    payload the JSON text PostgreSQL stored (numbers exactly as stored, none decoded and re-encoded)."""

    id: int
    event_id: str
    topic: str
    key: str | None
    event_type: str
    headers: KafkaHeaders
    value: bytes


def build_cloudevent_attributes(
    *,
    event_id: str,
    source: str,
    event_type: str,
    subject: str | None,
    time: datetime,
    correlation_id: str | None,
    causation_id: str | None,
) -> EventAttributes:
    """CloudEvents 1.0 attributes plus the correlation/causation extensions of a new event."""
    return EventAttributes(
        id=event_id,
        source=source,
        type=event_type,
        time=time,
        subject=subject,
        # A flow's first event starts its own correlation chain.
        correlationid=correlation_id or event_id,
        causationid=causation_id,
    )


async def add_event(
    session: AsyncSession,
    *,
    topic: str,
    key: str | None,
    event_type: str,
    payload: dict[str, Any],
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
) -> str:
    """Insert one event into the outbox in `session`'s transaction and return its id."""
    assert topic, "topic must not be empty"
    require_source_produces(source, topic)  # the catalogue cannot lie about who publishes what
    event_id = event_id or new_id(EVENT_ID_PREFIX)
    attributes = build_cloudevent_attributes(
        event_id=event_id,
        source=source,
        event_type=event_type,
        subject=subject,
        time=datetime.now(UTC),
        correlation_id=current_correlation_id(),
        causation_id=current_causation_id(),
    )
    await session.execute(
        outbox.insert().values(
            event_id=event_id,
            topic=topic,
            message_key=key,
            event_type=event_type,
            headers=cloudevents.attribute_strings(attributes),
            payload=payload,
        )
    )
    # Notifications with the same payload in one transaction are folded into one by PostgreSQL.
    await session.execute(select(func.pg_notify(OUTBOX_NOTIFY_CHANNEL, "")))
    return event_id


async def add_model_event(
    session: AsyncSession,
    topic: str,
    key: str | None,
    model: BaseModel,
    *,
    source: str,
    event_type: str | None = None,
    subject: str | None = None,
    event_id: str | None = None,
) -> str:
    """`add_event` for a pydantic model; the event type defaults to the topic (topics are types)."""
    return await add_event(
        session,
        topic=topic,
        key=key,
        event_type=event_type or topic,
        payload=model.model_dump(mode="json"),
        source=source,
        subject=subject,
        event_id=event_id,
    )


class ModelEventOutbox:
    """A service's outbox on a unit of work's session: `await uow.events.add(event)` publishes a
    contract model on its catalogued topic, keyed as the catalogue says, after the commit."""

    def __init__(self, session: AsyncSession, *, source: str) -> None:
        self._session = session
        self._source = source

    async def add(self, event: BaseModel) -> str:
        spec = topic_for_event(event)
        key = spec.message_key(event)
        return await add_model_event(self._session, spec.name, key, event, source=self._source, subject=key)
