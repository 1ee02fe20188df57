"""All of the card clearings' SQL (seed 003's batches of batches from a card network)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.ids import new_id
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation
from clearway.reconciliation.adapters.orm import CardClearingRow
from clearway.reconciliation.domain.card_clearings import (
    CARD_CLEARING_ID_PREFIX,
    CardClearing,
    CardTransaction,
    ClearingStatus,
)


def _clearing(row: CardClearingRow) -> CardClearing:
    return CardClearing(
        id=row.id,
        link_id=row.link_id,
        clearing_id=row.clearing_id,
        settlement_id=row.settlement_id,
        expected_minor=row.expected_minor,
        transactions=None
        if row.transactions is None
        else tuple(
            CardTransaction(t["card_transaction_id"], t["account_path"], int(t["amount_minor"]))
            for t in row.transactions
        ),
        settled=row.settled,
        status=ClearingStatus(row.status),
        failure=row.failure,
        created_at=row.created_at,
        updated_at=repaired_updated_at("card clearing", row.id, row.created_at, row.updated_at),
    )


def _transactions_json(transactions: Sequence[CardTransaction]) -> list[dict[str, Any]]:
    return [
        {"card_transaction_id": t.card_transaction_id, "account_path": t.account_path, "amount_minor": t.amount_minor}
        for t in transactions
    ]


# One row per (link, clearing), filled from the settlement file, the clearing file and the settlement's
# match in whatever order they come; each statement fills only its own columns.
_UPSERT = """
    INSERT INTO card_clearings (id, link_id, clearing_id, settlement_id, expected_minor, transactions, settled, status,
                                created_at, updated_at)
    VALUES (:id, :link_id, :clearing_id, :settlement_id, :expected_minor, CAST(:transactions AS jsonb), :settled,
            'waiting', :now, :now)
    ON CONFLICT (link_id, clearing_id) DO UPDATE SET {assignments}, updated_at = GREATEST(card_clearings.created_at, :now)
"""
_FROM_SETTLEMENT = text(
    _UPSERT.format(
        assignments="settlement_id = coalesce(card_clearings.settlement_id, EXCLUDED.settlement_id), "
        "expected_minor = coalesce(card_clearings.expected_minor, EXCLUDED.expected_minor), "
        "settled = card_clearings.settled OR EXCLUDED.settled"
    )
)
_FROM_FILE = text(
    _UPSERT.format(assignments="transactions = coalesce(card_clearings.transactions, EXCLUDED.transactions)")
)


class SqlCardClearingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def from_settlement_file(
        self, link_id: str, settlement_id: str, amounts: Sequence[tuple[str, int]], now: datetime, *, settled: bool
    ) -> None:
        """Each clearing's amount (and, once its settlement's match posts, `settled`)."""
        for clearing_id, amount_minor in amounts:
            await self._session.execute(
                _FROM_SETTLEMENT,
                {
                    "id": new_id(CARD_CLEARING_ID_PREFIX),
                    "link_id": link_id,
                    "clearing_id": clearing_id,
                    "settlement_id": settlement_id,
                    "expected_minor": amount_minor,
                    "transactions": None,
                    "settled": settled,
                    "now": now,
                },
            )
        self._session.expire_all()

    async def from_clearing_file(
        self, link_id: str, clearing_id: str, transactions: Sequence[CardTransaction], now: datetime
    ) -> None:
        await self._session.execute(
            _FROM_FILE,
            {
                "id": new_id(CARD_CLEARING_ID_PREFIX),
                "link_id": link_id,
                "clearing_id": clearing_id,
                "settlement_id": None,
                "expected_minor": None,
                "transactions": json.dumps(_transactions_json(transactions)),
                "settled": False,
                "now": now,
            },
        )
        self._session.expire_all()

    async def get(self, link_id: str, clearing_id: str, *, for_update: bool = False) -> CardClearing | None:
        query = select(CardClearingRow).where(
            CardClearingRow.link_id == link_id, CardClearingRow.clearing_id == clearing_id
        )
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _clearing(row) if row is not None else None

    async def of_settlement(self, link_id: str, settlement_id: str) -> Sequence[CardClearing]:
        rows = await self._session.scalars(
            select(CardClearingRow)
            .where(CardClearingRow.link_id == link_id, CardClearingRow.settlement_id == settlement_id)
            .order_by(CardClearingRow.clearing_id)
        )
        return [_clearing(row) for row in rows]

    async def ready(self, link_id: str | None, limit: int) -> Sequence[CardClearing]:
        """Settled clearings whose file is in and that are not split yet."""
        query = (
            select(CardClearingRow)
            .where(
                CardClearingRow.status == ClearingStatus.WAITING.value,
                CardClearingRow.settled.is_(True),
                CardClearingRow.transactions.is_not(None),
            )
            .order_by(CardClearingRow.created_at)
            .limit(limit)
        )
        if link_id is not None:
            query = query.where(CardClearingRow.link_id == link_id)
        return [_clearing(row) for row in await self._session.scalars(query)]

    async def set_status(
        self, clearing_row_id: str, status: ClearingStatus, now: datetime, failure: str | None
    ) -> None:
        await self._session.execute(
            update(CardClearingRow)
            .where(CardClearingRow.id == clearing_row_id)
            .values(
                status=status.value,
                failure=failure,
                updated_at=updated_at_not_before_creation(CardClearingRow.created_at, now),
            )
        )
        self._session.expire_all()
