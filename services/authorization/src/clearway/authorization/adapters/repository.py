"""All of authorization's SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.orm import CardAccountRow
from clearway.authorization.domain.card_accounts import CardAccount, CardAccountStatus
from clearway.platform.timestamps import repaired_updated_at


def _card_account(row: CardAccountRow) -> CardAccount:
    return CardAccount(
        id=row.id,
        customer_id=row.customer_id,
        currency=row.currency,
        credit_limit_minor=row.credit_limit_minor,
        status=CardAccountStatus(row.status),
        ledger_id=row.ledger_id,
        created_at=row.created_at,
        updated_at=repaired_updated_at("card account", row.id, row.created_at, row.updated_at),
    )


class SqlCardAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, card_account_id: str) -> CardAccount | None:
        row = await self._session.get(CardAccountRow, card_account_id)
        return _card_account(row) if row is not None else None

    async def list(self, *, customer_id: str | None, starting_after: str | None, limit: int) -> Sequence[CardAccount]:
        query = select(CardAccountRow).order_by(CardAccountRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(CardAccountRow.id > starting_after)
        if customer_id is not None:
            query = query.where(CardAccountRow.customer_id == customer_id)
        rows = await self._session.scalars(query)
        return [_card_account(row) for row in rows]
