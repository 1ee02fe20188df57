"""All of the cards' SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.orm import CardRow
from clearway.authorization.domain.cards import Card, CardControls, CardStatus
from clearway.platform.timestamps import repaired_updated_at


def _card(row: CardRow) -> Card:
    return Card(
        id=row.id,
        card_account_id=row.card_account_id,
        last_four=row.last_four,
        expires_month=row.expires_month,
        expires_year=row.expires_year,
        status=CardStatus(row.status),
        controls=CardControls(
            blocked_mccs=tuple(row.blocked_mccs or ()),
            per_transaction_max_minor=row.per_transaction_max_minor,
            daily_max_minor=row.daily_max_minor,
            atm_allowed=row.atm_allowed,
        ),
        created_at=row.created_at,
        updated_at=repaired_updated_at("card", row.id, row.created_at, row.updated_at),
    )


class SqlCardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, card_id: str) -> None:
        # A transaction-scoped advisory lock: also for a card id we do not know (nothing to lock a row of).
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"authorization-card:{card_id}"}
        )

    async def add(self, card: Card) -> None:
        self._session.add(
            CardRow(
                id=card.id,
                card_account_id=card.card_account_id,
                last_four=card.last_four,
                expires_month=card.expires_month,
                expires_year=card.expires_year,
                status=card.status.value,
                blocked_mccs=list(card.controls.blocked_mccs),
                per_transaction_max_minor=card.controls.per_transaction_max_minor,
                daily_max_minor=card.controls.daily_max_minor,
                atm_allowed=card.controls.atm_allowed,
                created_at=card.created_at,
                updated_at=card.updated_at,
            )
        )
        await self._session.flush()

    async def get(self, card_id: str, *, for_update: bool = False) -> Card | None:
        query = select(CardRow).where(CardRow.id == card_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return _card(row) if row is not None else None

    async def update(self, card: Card) -> None:
        await self._session.execute(
            update(CardRow)
            .where(CardRow.id == card.id)
            .values(
                status=card.status.value,
                blocked_mccs=list(card.controls.blocked_mccs),
                per_transaction_max_minor=card.controls.per_transaction_max_minor,
                daily_max_minor=card.controls.daily_max_minor,
                atm_allowed=card.controls.atm_allowed,
                updated_at=card.updated_at,
            )
        )

    async def list_for_account(self, card_account_id: str, *, starting_after: str | None, limit: int) -> Sequence[Card]:
        query = select(CardRow).where(CardRow.card_account_id == card_account_id).order_by(CardRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(CardRow.id > starting_after)
        return [_card(row) for row in await self._session.scalars(query)]
