"""All of the payout batches' SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import PayoutBatchRow
from clearway.payout.domain.batches import BatchStatus, PayoutBatch
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation


def _batch(row: PayoutBatchRow) -> PayoutBatch:
    return PayoutBatch(
        id=row.id,
        currency=row.currency,
        status=BatchStatus(row.status),
        message_id=row.message_id,
        submitted_at=row.submitted_at,
        created_at=row.created_at,
        updated_at=repaired_updated_at("payout batch", row.id, row.created_at, row.updated_at),
    )


class SqlBatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_batch(self, currency: str, new: PayoutBatch) -> PayoutBatch:
        # The partial unique index allows one open batch per currency; a racing creator's row wins.
        await self._session.execute(
            insert(PayoutBatchRow)
            .values(
                id=new.id,
                currency=currency,
                status=BatchStatus.OPEN.value,
                created_at=new.created_at,
                updated_at=new.updated_at,
            )
            .on_conflict_do_nothing(
                index_elements=[PayoutBatchRow.currency], index_where=PayoutBatchRow.status == BatchStatus.OPEN.value
            )
        )
        row = await self._session.scalar(
            select(PayoutBatchRow)
            .where(PayoutBatchRow.currency == currency, PayoutBatchRow.status == BatchStatus.OPEN.value)
            .with_for_update()
        )
        assert row is not None, "an open batch exists after the insert"
        return _batch(row)

    async def get(self, batch_id: str, *, for_update: bool = False) -> PayoutBatch | None:
        query = select(PayoutBatchRow).where(PayoutBatchRow.id == batch_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _batch(row) if row is not None else None

    async def update(self, batch: PayoutBatch) -> None:
        await self._session.execute(
            update(PayoutBatchRow)
            .where(PayoutBatchRow.id == batch.id)
            .values(
                status=batch.status.value,
                message_id=batch.message_id,
                submitted_at=batch.submitted_at,
                updated_at=updated_at_not_before_creation(PayoutBatchRow.created_at, batch.updated_at),
            )
        )
        self._session.expire_all()

    async def list(self, *, starting_after: str | None, limit: int) -> Sequence[PayoutBatch]:
        query = select(PayoutBatchRow).order_by(PayoutBatchRow.id.desc()).limit(limit)
        if starting_after is not None:
            query = query.where(PayoutBatchRow.id < starting_after)
        return [_batch(row) for row in await self._session.scalars(query)]
