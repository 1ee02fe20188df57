"""All of the expectations' SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation
from clearway.reconciliation.adapters.orm import ExpectationRow
from clearway.reconciliation.domain.expectations import (
    Expectation,
    ExpectationItem,
    ExpectationStatus,
    InitiationStatus,
)


def _expectation(row: ExpectationRow) -> Expectation:
    return Expectation(
        id=row.id,
        link_id=row.link_id,
        direction=cast(Literal["inbound", "outbound"], row.direction),
        amount_minor=row.amount_minor,
        currency=row.currency,
        reference=row.reference,
        expected_on=row.expected_on,
        account_path=row.account_path,
        items=tuple(ExpectationItem(item["account_path"], int(item["amount_minor"])) for item in row.items),
        source=row.source,
        source_id=row.source_id,
        status=ExpectationStatus(row.status),
        match_id=row.match_id,
        initiation_ik=row.initiation_ik,
        initiation_status=InitiationStatus(row.initiation_status),
        batch_id=row.batch_id,
        created_at=row.created_at,
        updated_at=repaired_updated_at("expectation", row.id, row.created_at, row.updated_at),
    )


def _values(expectation: Expectation) -> dict[str, Any]:
    values = asdict(expectation)
    values["status"] = expectation.status.value
    values["initiation_status"] = expectation.initiation_status.value
    values["items"] = [{"account_path": i.account_path, "amount_minor": i.amount_minor} for i in expectation.items]
    return values


class SqlExpectationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, expectation: Expectation) -> Expectation:
        """Insert, or answer the one already stored for the same (source, source id)."""
        inserted = await self._session.scalar(
            insert(ExpectationRow).values(**_values(expectation)).on_conflict_do_nothing().returning(ExpectationRow.id)
        )
        if inserted is not None or expectation.source_id is None:
            return expectation
        existing = await self._session.scalar(
            select(ExpectationRow).where(
                ExpectationRow.source == expectation.source, ExpectationRow.source_id == expectation.source_id
            )
        )
        assert existing is not None, "the unique (source, source_id) that refused the insert names a row"
        return _expectation(existing)

    async def get(self, expectation_id: str, *, for_update: bool = False) -> Expectation | None:
        query = select(ExpectationRow).where(ExpectationRow.id == expectation_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _expectation(row) if row is not None else None

    async def by_source(self, source: str, source_id: str, *, for_update: bool = False) -> Expectation | None:
        query = select(ExpectationRow).where(ExpectationRow.source == source, ExpectationRow.source_id == source_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _expectation(row) if row is not None else None

    async def get_many(self, expectation_ids: Sequence[str], *, for_update: bool = False) -> list[Expectation]:
        query = select(ExpectationRow).where(ExpectationRow.id.in_(list(expectation_ids))).order_by(ExpectationRow.id)
        if for_update:
            query = query.with_for_update()
        return [_expectation(row) for row in await self._session.scalars(query)]

    async def list(
        self, *, link_id: str | None, status: ExpectationStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[Expectation]:
        query = select(ExpectationRow).order_by(ExpectationRow.id).limit(limit)
        if link_id is not None:
            query = query.where(ExpectationRow.link_id == link_id)
        if status is not None:
            query = query.where(ExpectationRow.status == status.value)
        if starting_after is not None:
            query = query.where(ExpectationRow.id > starting_after)
        return [_expectation(row) for row in await self._session.scalars(query)]

    async def update(self, expectation: Expectation) -> None:
        values = _values(expectation)
        del values["id"], values["created_at"]
        values["updated_at"] = updated_at_not_before_creation(ExpectationRow.created_at, expectation.updated_at)
        await self._session.execute(update(ExpectationRow).where(ExpectationRow.id == expectation.id).values(**values))
        self._session.expire_all()

    async def mark_matched_many(self, pairs: Sequence[tuple[str, str]], now: datetime) -> None:
        """(expectation id, match id) pairs, in one statement."""
        if not pairs:
            return
        await self._session.execute(
            text(
                "UPDATE expectations AS e SET status = 'matched', match_id = p.match_id, "
                "updated_at = GREATEST(e.created_at, :now) "
                "FROM unnest(CAST(:ids AS text[]), CAST(:match_ids AS text[])) AS p(id, match_id) WHERE e.id = p.id"
            ),
            {"ids": [pair[0] for pair in pairs], "match_ids": [pair[1] for pair in pairs], "now": now},
        )

    async def reopen(self, expectation_ids: Sequence[str], now: datetime) -> None:
        await self._session.execute(
            update(ExpectationRow)
            .where(ExpectationRow.id.in_(list(expectation_ids)))
            .values(
                status=ExpectationStatus.OPEN.value,
                match_id=None,
                updated_at=updated_at_not_before_creation(ExpectationRow.created_at, now),
            )
        )

    async def initiations_pending(self, limit: int) -> Sequence[Expectation]:
        rows = await self._session.scalars(
            select(ExpectationRow)
            .where(ExpectationRow.initiation_status == InitiationStatus.PENDING.value)
            .order_by(ExpectationRow.created_at)
            .limit(limit)
        )
        return [_expectation(row) for row in rows]

    async def cancelled_with_posted_initiation(self, limit: int) -> Sequence[Expectation]:
        rows = await self._session.scalars(
            select(ExpectationRow)
            .where(
                ExpectationRow.status == ExpectationStatus.CANCELLED.value,
                ExpectationRow.initiation_status == InitiationStatus.POSTED.value,
            )
            .limit(limit)
        )
        return [_expectation(row) for row in rows]

    async def join_batch(self, expectation_ids: Sequence[str], batch_id: str, now: datetime) -> None:
        await self._session.execute(
            update(ExpectationRow)
            .where(ExpectationRow.id.in_(list(expectation_ids)))
            .values(batch_id=batch_id, updated_at=updated_at_not_before_creation(ExpectationRow.created_at, now))
        )
        self._session.expire_all()

    async def in_batch(self, batch_id: str) -> Sequence[Expectation]:
        rows = await self._session.scalars(
            select(ExpectationRow).where(ExpectationRow.batch_id == batch_id).order_by(ExpectationRow.id)
        )
        return [_expectation(row) for row in rows]
