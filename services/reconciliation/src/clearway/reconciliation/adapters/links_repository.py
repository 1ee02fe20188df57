"""All of the links' SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.timestamps import repaired_updated_at
from clearway.reconciliation.adapters.orm import LinkRow
from clearway.reconciliation.domain.links import Link, LinkKind


def _link(row: LinkRow) -> Link:
    return Link(
        id=row.id,
        name=row.name,
        kind=LinkKind(row.kind),
        ledger_id=row.ledger_id,
        cash_account_path=row.cash_account_path,
        currency=row.currency,
        external_account_id=row.external_account_id,
        auto_match=row.auto_match,
        clearing_max_age_s=row.clearing_max_age_s,
        date_window_days=row.date_window_days,
        route_account_path=row.route_account_path,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=repaired_updated_at("link", row.id, row.created_at, row.updated_at),
    )


class SqlLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link: Link) -> None:
        self._session.add(LinkRow(**{**asdict(link), "kind": link.kind.value}))
        await self._session.flush()

    async def get(self, link_id: str) -> Link | None:
        row = await self._session.get(LinkRow, link_id)
        return _link(row) if row is not None else None

    async def by_external_account(self, external_account_id: str) -> Link | None:
        row = await self._session.scalar(select(LinkRow).where(LinkRow.external_account_id == external_account_id))
        return _link(row) if row is not None else None

    async def first_of_kind(self, kind: LinkKind, currency: str) -> Link | None:
        row = await self._session.scalar(
            select(LinkRow)
            .where(LinkRow.kind == kind.value, LinkRow.currency == currency)
            .order_by(LinkRow.id)
            .limit(1)
        )
        return _link(row) if row is not None else None

    async def for_ledger_account(self, ledger_id: str, cash_account_path: str) -> Sequence[Link]:
        rows = await self._session.scalars(
            select(LinkRow).where(LinkRow.ledger_id == ledger_id, LinkRow.cash_account_path == cash_account_path)
        )
        return [_link(row) for row in rows]

    async def list(self, *, starting_after: str | None, limit: int) -> Sequence[Link]:
        query = select(LinkRow).order_by(LinkRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(LinkRow.id > starting_after)
        return [_link(row) for row in await self._session.scalars(query)]
