"""All of reconciliation's SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform import inbox
from clearway.platform.timestamps import repaired_updated_at
from clearway.reconciliation.adapters.orm import ExternalTransactionRow
from clearway.reconciliation.domain.external_transactions import ExternalTransaction, MatchStatus


def _external_transaction(row: ExternalTransactionRow) -> ExternalTransaction:
    return ExternalTransaction(
        id=row.id,
        processor=row.processor,
        transfer_id=row.transfer_id,
        direction=cast(Literal["inbound", "outbound"], row.direction),
        amount_minor=row.amount_minor,
        currency=row.currency,
        account_id=row.account_id,
        payment_reference=row.payment_reference,
        counterparty_name=row.counterparty_name,
        counterparty_account=row.counterparty_account,
        settled_at=row.settled_at,
        status=MatchStatus(row.status),
        created_at=row.created_at,
        updated_at=repaired_updated_at("external transaction", row.id, row.created_at, row.updated_at),
    )


class SqlExternalTransactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, transaction: ExternalTransaction) -> bool:
        values = {**asdict(transaction), "status": transaction.status.value}
        inserted = await self._session.scalar(
            insert(ExternalTransactionRow)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[ExternalTransactionRow.processor, ExternalTransactionRow.transfer_id]
            )
            .returning(ExternalTransactionRow.id)
        )
        return inserted is not None

    async def get(self, transaction_id: str) -> ExternalTransaction | None:
        row = await self._session.get(ExternalTransactionRow, transaction_id)
        return _external_transaction(row) if row is not None else None

    async def list(
        self, *, status: MatchStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[ExternalTransaction]:
        query = select(ExternalTransactionRow).order_by(ExternalTransactionRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(ExternalTransactionRow.id > starting_after)
        if status is not None:
            query = query.where(ExternalTransactionRow.status == status.value)
        rows = await self._session.scalars(query)
        return [_external_transaction(row) for row in rows]


class SqlInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        return await inbox.record_once(self._session, consumer, event_id, topic)
