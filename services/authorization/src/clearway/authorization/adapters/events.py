"""Authorization's events go through the transactional outbox, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.outbox import ModelEventOutbox

EVENT_SOURCE = "clearway.authorization"


class SqlEventOutbox(ModelEventOutbox):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, source=EVENT_SOURCE)
