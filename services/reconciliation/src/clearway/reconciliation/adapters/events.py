"""Reconciliation's events go through the transactional outbox; its consumers' inbox."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.catalogue import topic_for_event
from clearway.platform import inbox
from clearway.platform.outbox import add_model_event

EVENT_SOURCE = "clearway.reconciliation"


class SqlEventOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: BaseModel) -> str:
        spec = topic_for_event(event)
        key = spec.message_key(event)
        return await add_model_event(self._session, spec.name, key, event, source=EVENT_SOURCE, subject=key)


class SqlInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        return await inbox.record_once(self._session, consumer, event_id, topic)
