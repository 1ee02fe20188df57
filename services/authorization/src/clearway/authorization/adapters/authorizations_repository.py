"""All of the authorizations' SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.orm import AuthorizationRow
from clearway.authorization.domain.authorizations import (
    Authorization,
    AuthorizationStatus,
    CardActivity,
    Channel,
    Decision,
    Reason,
)
from clearway.platform.timestamps import repaired_updated_at

# Incremental authorizations of one authorization that are read back (a hotel stay extended daily
# for years stays under it).
INCREMENTS_MAX = 1_000
# What counts against a card's daily maximum: what is held, or asked for and not yet decided.
_SPENDING = [
    AuthorizationStatus.PENDING.value,
    AuthorizationStatus.APPROVED.value,
    AuthorizationStatus.REVERSING.value,
    AuthorizationStatus.RAISING.value,
]
_UNFINISHED = [
    AuthorizationStatus.PENDING.value,
    AuthorizationStatus.REVERSING.value,
    AuthorizationStatus.EXPIRING.value,
]


def _authorization(row: AuthorizationRow) -> Authorization:
    values = {column: getattr(row, column) for column in AuthorizationRow.__table__.columns.keys()}  # noqa: SIM118
    values["channel"] = Channel(row.channel)
    values["status"] = AuthorizationStatus(row.status)
    values["decision"] = Decision(row.decision) if row.decision is not None else None
    values["reason"] = Reason(row.reason) if row.reason is not None else None
    values["updated_at"] = repaired_updated_at("authorization", row.id, row.created_at, row.updated_at)
    return Authorization(**values)


def _values(authorization: Authorization) -> dict[str, Any]:
    values = asdict(authorization)
    for name in ("channel", "status", "decision", "reason"):
        value = getattr(authorization, name)
        values[name] = value.value if value is not None else None
    return values


class SqlAuthorizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_processor_id(self, processor_authorization_id: str) -> None:
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"authorization-processor-id:{processor_authorization_id}"},
        )

    async def add(self, authorization: Authorization) -> None:
        self._session.add(AuthorizationRow(**_values(authorization)))
        await self._session.flush()

    async def get(self, authorization_id: str, *, for_update: bool = False) -> Authorization | None:
        return await self._one(AuthorizationRow.id == authorization_id, for_update)

    async def get_by_processor_id(
        self, processor_authorization_id: str, *, for_update: bool = False
    ) -> Authorization | None:
        return await self._one(AuthorizationRow.authorization_id == processor_authorization_id, for_update)

    async def _one(self, condition: Any, for_update: bool) -> Authorization | None:
        query = select(AuthorizationRow).where(condition)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return _authorization(row) if row is not None else None

    async def update(self, authorization: Authorization) -> None:
        values = _values(authorization)
        for fixed in ("id", "authorization_id", "created_at"):
            values.pop(fixed)
        await self._session.execute(
            update(AuthorizationRow).where(AuthorizationRow.id == authorization.id).values(**values)
        )

    async def activity(self, card_id: str, *, day_since: datetime, window_since: datetime) -> CardActivity:
        spent = func.coalesce(
            func.sum(
                case(
                    (AuthorizationRow.status == AuthorizationStatus.PENDING.value, AuthorizationRow.amount_minor),
                    else_=AuthorizationRow.held_minor,
                )
            ).filter(AuthorizationRow.status.in_(_SPENDING), AuthorizationRow.created_at >= day_since),
            0,
        )
        recent = func.count().filter(AuthorizationRow.created_at >= window_since)
        since = min(day_since, window_since)
        row = (
            await self._session.execute(
                select(spent, recent).where(AuthorizationRow.card_id == card_id, AuthorizationRow.created_at >= since)
            )
        ).one()
        return CardActivity(spent_today_minor=int(row[0]), recent_count=int(row[1]))

    async def list(
        self,
        *,
        processor_authorization_id: str | None,
        card_id: str | None,
        starting_after: str | None,
        limit: int,
    ) -> Sequence[Authorization]:
        query = select(AuthorizationRow).order_by(AuthorizationRow.id).limit(limit)
        if processor_authorization_id is not None:
            query = query.where(AuthorizationRow.authorization_id == processor_authorization_id)
        if card_id is not None:
            query = query.where(AuthorizationRow.card_id == card_id)
        if starting_after is not None:
            query = query.where(AuthorizationRow.id > starting_after)
        return [_authorization(row) for row in await self._session.scalars(query)]

    async def unfinished_older_than(self, moment: datetime, limit: int) -> Sequence[Authorization]:
        query = (
            select(AuthorizationRow)
            .where(AuthorizationRow.status.in_(_UNFINISHED), AuthorizationRow.updated_at < moment)
            .order_by(AuthorizationRow.updated_at)
            .limit(limit)
        )
        return [_authorization(row) for row in await self._session.scalars(query)]

    async def approved_increments(self, authorization_id: str) -> Sequence[Authorization]:
        """The approved incremental authorizations that raised `authorization_id` (ours), oldest first."""
        query = (
            select(AuthorizationRow)
            .where(
                AuthorizationRow.incremental_of == authorization_id,
                AuthorizationRow.status == AuthorizationStatus.APPROVED.value,
            )
            .order_by(AuthorizationRow.created_at, AuthorizationRow.id)
            .limit(INCREMENTS_MAX)
        )
        return [_authorization(row) for row in await self._session.scalars(query)]

    async def approved_requested_before(self, moment: datetime, limit: int) -> Sequence[Authorization]:
        """Approved authorizations (an open hold, never cleared) requested before `moment`, oldest first."""
        query = (
            select(AuthorizationRow)
            .where(
                AuthorizationRow.status == AuthorizationStatus.APPROVED.value,
                AuthorizationRow.held_minor > 0,
                AuthorizationRow.requested_at < moment,
            )
            .order_by(AuthorizationRow.requested_at, AuthorizationRow.id)
            .limit(limit)
        )
        return [_authorization(row) for row in await self._session.scalars(query)]
