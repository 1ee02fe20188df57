"""All of the clearings' SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.orm import ClearingRow
from clearway.authorization.domain.clearings import Clearing, ClearingStatus
from clearway.platform.timestamps import repaired_updated_at

# Billing's (the statement a posted clearing is on), written by the close-cycles job only.
BILLING_COLUMNS = frozenset({"statement_number"})


def _clearing(row: ClearingRow) -> Clearing:
    columns = [column for column in ClearingRow.__table__.columns.keys() if column not in BILLING_COLUMNS]  # noqa: SIM118
    values = {column: getattr(row, column) for column in columns}
    values["status"] = ClearingStatus(row.status)
    values["updated_at"] = repaired_updated_at("clearing", row.id, row.created_at, row.updated_at)
    return Clearing(**values)


def _values(clearing: Clearing) -> dict[str, Any]:
    values = asdict(clearing)
    values["status"] = clearing.status.value
    return values


class SqlClearingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_processor_id(self, clearing_id: str) -> None:
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"clearing-processor-id:{clearing_id}"},
        )

    async def add(self, clearing: Clearing) -> None:
        self._session.add(ClearingRow(**_values(clearing)))
        await self._session.flush()

    async def get(self, clearing_ref: str, *, for_update: bool = False) -> Clearing | None:
        """By our id (`ccl_...`)."""
        return await self._one(ClearingRow.id == clearing_ref, for_update)

    async def get_by_processor_id(self, clearing_id: str, *, for_update: bool = False) -> Clearing | None:
        return await self._one(ClearingRow.clearing_id == clearing_id, for_update)

    async def _one(self, condition: Any, for_update: bool) -> Clearing | None:
        query = select(ClearingRow).where(condition)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return _clearing(row) if row is not None else None

    async def update(self, clearing: Clearing) -> None:
        values = _values(clearing)
        for fixed in ("id", "clearing_id", "created_at"):
            values.pop(fixed)
        await self._session.execute(update(ClearingRow).where(ClearingRow.id == clearing.id).values(**values))

    async def list(
        self, *, card_id: str | None, clearing_id: str | None, starting_after: str | None, limit: int
    ) -> Sequence[Clearing]:
        query = select(ClearingRow).order_by(ClearingRow.id).limit(limit)
        if card_id is not None:
            query = query.where(ClearingRow.card_id == card_id)
        if clearing_id is not None:
            query = query.where(ClearingRow.clearing_id == clearing_id)
        if starting_after is not None:
            query = query.where(ClearingRow.id > starting_after)
        return [_clearing(row) for row in await self._session.scalars(query)]

    async def pending_older_than(self, moment: datetime, limit: int) -> Sequence[Clearing]:
        query = (
            select(ClearingRow)
            .where(ClearingRow.status == ClearingStatus.PENDING.value, ClearingRow.updated_at < moment)
            .order_by(ClearingRow.updated_at)
            .limit(limit)
        )
        return [_clearing(row) for row in await self._session.scalars(query)]
