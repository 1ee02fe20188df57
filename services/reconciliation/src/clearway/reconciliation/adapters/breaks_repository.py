"""All of the breaks', statements' and audit log's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.reconciliation.adapters.orm import AuditEntryRow, BreakRow, StatementRow
from clearway.reconciliation.domain.breaks import Break, BreakKind


def _break(row: BreakRow) -> Break:
    return Break(
        id=row.id,
        kind=BreakKind(row.kind),
        subject=row.subject,
        link_id=row.link_id,
        detail=dict(row.detail),
        detected_at=row.detected_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
    )


class SqlBreakRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, found: Break) -> bool:
        """Insert unless the same (kind, subject) is already open; True if this is a new break."""
        inserted = await self._session.scalar(
            insert(BreakRow)
            .values(
                id=found.id,
                kind=found.kind.value,
                subject=found.subject,
                link_id=found.link_id,
                detail=found.detail,
                detected_at=found.detected_at,
            )
            .on_conflict_do_nothing(
                index_elements=[BreakRow.kind, BreakRow.subject], index_where=BreakRow.resolved_at.is_(None)
            )
            .returning(BreakRow.id)
        )
        return inserted is not None

    async def get(self, break_id: str, *, for_update: bool = False) -> Break | None:
        query = select(BreakRow).where(BreakRow.id == break_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _break(row) if row is not None else None

    async def list(
        self, *, open_only: bool, kind: BreakKind | None, starting_after: str | None, limit: int
    ) -> Sequence[Break]:
        query = select(BreakRow).order_by(BreakRow.id).limit(limit)
        if open_only:
            query = query.where(BreakRow.resolved_at.is_(None))
        if kind is not None:
            query = query.where(BreakRow.kind == kind.value)
        if starting_after is not None:
            query = query.where(BreakRow.id > starting_after)
        return [_break(row) for row in await self._session.scalars(query)]

    async def resolve(self, break_id: str, *, by: str, note: str, now: datetime) -> None:
        await self._session.execute(
            update(BreakRow)
            .where(BreakRow.id == break_id)
            .values(resolved_at=now, resolved_by=by, resolution_note=note)
        )
        self._session.expire_all()

    async def open_for_link(self, link_id: str) -> Sequence[Break]:
        rows = await self._session.scalars(
            select(BreakRow).where(BreakRow.link_id == link_id, BreakRow.resolved_at.is_(None)).order_by(BreakRow.id)
        )
        return [_break(row) for row in rows]


class SqlStatementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, values: dict[str, Any]) -> None:
        self._session.add(StatementRow(**values))
        await self._session.flush()

    async def latest_closing(self, link_id: str, *, on_or_before: date | None = None) -> tuple[int, date] | None:
        query = (
            select(StatementRow.closing_balance_minor, StatementRow.closing_on)
            .where(StatementRow.link_id == link_id, StatementRow.closing_balance_minor.is_not(None))
            .order_by(StatementRow.closing_on.desc(), StatementRow.created_at.desc())
            .limit(1)
        )
        if on_or_before is not None:
            query = query.where(StatementRow.closing_on <= on_or_before)
        row = (await self._session.execute(query)).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), row[1]


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        entry_id: str,
        entity_type: str,
        entity_id: str,
        action: str,
        actor: str,
        at: datetime,
        detail: dict[str, Any],
    ) -> None:
        self._session.add(
            AuditEntryRow(
                id=entry_id,
                entity_type=entity_type,
                entity_id=entity_id,
                action=action,
                actor=actor,
                at=at,
                detail=detail,
            )
        )
        await self._session.flush()

    async def for_entity(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        rows = await self._session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.entity_type == entity_type, AuditEntryRow.entity_id == entity_id)
            .order_by(AuditEntryRow.id)
        )
        return [{"action": r.action, "actor": r.actor, "at": r.at, "detail": r.detail} for r in rows]
