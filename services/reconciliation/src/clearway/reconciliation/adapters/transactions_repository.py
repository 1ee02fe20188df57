"""All of the external transactions' SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation
from clearway.reconciliation.adapters.orm import ExternalTransactionRow
from clearway.reconciliation.domain.external_transactions import ExternalTransaction, ReconStatus, Source


def _transaction(row: ExternalTransactionRow) -> ExternalTransaction:
    return ExternalTransaction(
        id=row.id,
        link_id=row.link_id,
        external_id=row.external_id,
        processor=row.processor,
        transfer_id=row.transfer_id,
        direction=cast(Literal["inbound", "outbound"], row.direction),
        amount_minor=row.amount_minor,
        currency=row.currency,
        account_id=row.account_id,
        reference=row.reference,
        description=row.description,
        counterparty_name=row.counterparty_name,
        counterparty_account=row.counterparty_account,
        booked_at=row.booked_at,
        source=Source(row.source),
        status=ReconStatus(row.status),
        match_id=row.match_id,
        reconciled_at=row.reconciled_at,
        created_at=row.created_at,
        updated_at=repaired_updated_at("external transaction", row.id, row.created_at, row.updated_at),
    )


def _values(transaction: ExternalTransaction) -> dict[str, object]:
    return {**asdict(transaction), "status": transaction.status.value, "source": transaction.source.value}


class SqlExternalTransactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, transaction: ExternalTransaction) -> bool:
        """Insert unless the same (processor, transfer id) or (link, external id) is already stored."""
        inserted = await self._session.scalar(
            insert(ExternalTransactionRow)
            .values(**_values(transaction))
            .on_conflict_do_nothing()
            .returning(ExternalTransactionRow.id)
        )
        return inserted is not None

    async def add_many_if_new(self, transactions: Sequence[ExternalTransaction]) -> int:
        """One statement for a whole statement file; -> how many were new."""
        if not transactions:
            return 0
        inserted = await self._session.scalars(
            insert(ExternalTransactionRow)
            .values([_values(transaction) for transaction in transactions])
            .on_conflict_do_nothing()
            .returning(ExternalTransactionRow.id)
        )
        return len(list(inserted))

    async def get(self, transaction_id: str, *, for_update: bool = False) -> ExternalTransaction | None:
        query = select(ExternalTransactionRow).where(ExternalTransactionRow.id == transaction_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _transaction(row) if row is not None else None

    async def get_many(self, transaction_ids: Sequence[str], *, for_update: bool = False) -> list[ExternalTransaction]:
        query = (
            select(ExternalTransactionRow)
            .where(ExternalTransactionRow.id.in_(list(transaction_ids)))
            .order_by(ExternalTransactionRow.id)
        )
        if for_update:
            query = query.with_for_update()
        return [_transaction(row) for row in await self._session.scalars(query)]

    async def list(
        self,
        *,
        link_id: str | None,
        status: ReconStatus | None,
        unlinked: bool = False,
        starting_after: str | None,
        limit: int,
    ) -> Sequence[ExternalTransaction]:
        query = select(ExternalTransactionRow).order_by(ExternalTransactionRow.id).limit(limit)
        if link_id is not None:
            query = query.where(ExternalTransactionRow.link_id == link_id)
        if unlinked:
            query = query.where(ExternalTransactionRow.link_id.is_(None))
        if status is not None:
            query = query.where(ExternalTransactionRow.status == status.value)
        if starting_after is not None:
            query = query.where(ExternalTransactionRow.id > starting_after)
        return [_transaction(row) for row in await self._session.scalars(query)]

    async def unreconciled_for_links(self, link_ids: Sequence[str]) -> Sequence[ExternalTransaction]:
        rows = await self._session.scalars(
            select(ExternalTransactionRow)
            .where(
                ExternalTransactionRow.link_id.in_(list(link_ids)),
                ExternalTransactionRow.status == ReconStatus.UNRECONCILED.value,
            )
            .order_by(ExternalTransactionRow.id)
        )
        return [_transaction(row) for row in rows]

    async def mark_reconciled_many(self, pairs: Sequence[tuple[str, str]], now: datetime) -> None:
        """(transaction id, match id) pairs, in one statement."""
        if not pairs:
            return
        await self._session.execute(
            text(
                "UPDATE external_transactions AS t SET status = 'reconciled', match_id = p.match_id, "
                "reconciled_at = :now, updated_at = GREATEST(t.created_at, :now) "
                "FROM unnest(CAST(:ids AS text[]), CAST(:match_ids AS text[])) AS p(id, match_id) WHERE t.id = p.id"
            ),
            {"ids": [pair[0] for pair in pairs], "match_ids": [pair[1] for pair in pairs], "now": now},
        )

    async def release(self, transaction_ids: Sequence[str], now: datetime, *, held_for_review: bool = False) -> None:
        """Undo a match: the transactions are unreconciled again (`held_for_review`: for an operator's
        manual match only, the automatic rules skip them)."""
        await self._session.execute(
            update(ExternalTransactionRow)
            .where(ExternalTransactionRow.id.in_(list(transaction_ids)))
            .values(
                status=ReconStatus.UNRECONCILED.value,
                match_id=None,
                reconciled_at=None,
                held_for_review=held_for_review,
                updated_at=updated_at_not_before_creation(ExternalTransactionRow.created_at, now),
            )
        )

    async def link_unlinked(self, link_id: str, external_account_id: str, now: datetime) -> int:
        """Adopt transactions that arrived before their link existed."""
        result = await self._session.execute(
            update(ExternalTransactionRow)
            .where(
                ExternalTransactionRow.link_id.is_(None),
                ExternalTransactionRow.account_id == external_account_id,
            )
            .values(link_id=link_id, updated_at=updated_at_not_before_creation(ExternalTransactionRow.created_at, now))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def totals(self, link_id: str, *, since: datetime | None, until: datetime) -> tuple[int, int]:
        """(in, out) minor units booked on the link in [since, until)."""
        conditions = [ExternalTransactionRow.link_id == link_id, ExternalTransactionRow.booked_at < until]
        if since is not None:
            conditions.append(ExternalTransactionRow.booked_at >= since)
        rows = await self._session.execute(
            select(ExternalTransactionRow.direction, func.coalesce(func.sum(ExternalTransactionRow.amount_minor), 0))
            .where(*conditions)
            .group_by(ExternalTransactionRow.direction)
        )
        by_direction = {direction: int(total) for direction, total in rows}
        return by_direction.get("inbound", 0), by_direction.get("outbound", 0)

    async def unreconciled_older_than(self, before: datetime, limit: int) -> Sequence[ExternalTransaction]:
        rows = await self._session.scalars(
            select(ExternalTransactionRow)
            .where(
                ExternalTransactionRow.status == ReconStatus.UNRECONCILED.value,
                ExternalTransactionRow.created_at < before,
            )
            .order_by(ExternalTransactionRow.created_at)
            .limit(limit)
        )
        return [_transaction(row) for row in rows]
