"""All of the batches' SQL (seed 003's batch send, formed before the bank settles it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation
from clearway.reconciliation.adapters.orm import BatchRow
from clearway.reconciliation.domain.batches import Batch, BatchStatus


def _batch(row: BatchRow) -> Batch:
    return Batch(
        id=row.id,
        link_id=row.link_id,
        reference=row.reference,
        currency=row.currency,
        status=BatchStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=repaired_updated_at("batch", row.id, row.created_at, row.updated_at),
    )


class SqlBatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, batch: Batch) -> bool:
        """False when the link already has an open batch under that reference."""
        inserted = await self._session.scalar(
            insert(BatchRow)
            .values(
                id=batch.id,
                link_id=batch.link_id,
                reference=batch.reference,
                currency=batch.currency,
                status=batch.status.value,
                created_by=batch.created_by,
                created_at=batch.created_at,
                updated_at=batch.updated_at,
            )
            .on_conflict_do_nothing()
            .returning(BatchRow.id)
        )
        return inserted is not None

    async def get(self, batch_id: str) -> Batch | None:
        row = await self._session.get(BatchRow, batch_id)
        return _batch(row) if row is not None else None

    async def list(self, *, link_id: str | None, starting_after: str | None, limit: int) -> Sequence[Batch]:
        query = select(BatchRow).order_by(BatchRow.id).limit(limit)
        if link_id is not None:
            query = query.where(BatchRow.link_id == link_id)
        if starting_after is not None:
            query = query.where(BatchRow.id > starting_after)
        return [_batch(row) for row in await self._session.scalars(query)]

    async def mark_settled(self, batch_id: str, now: datetime) -> None:
        await self._session.execute(
            update(BatchRow)
            .where(BatchRow.id == batch_id)
            .values(
                status=BatchStatus.SETTLED.value, updated_at=updated_at_not_before_creation(BatchRow.created_at, now)
            )
        )
        self._session.expire_all()
