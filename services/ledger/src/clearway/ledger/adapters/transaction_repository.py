"""SQL for the transactions table: column layout and lookups by id and reference (a batch inserts
its transactions through `posting_write_repository`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.adapters.tenancy_sql import transaction_visible
from clearway.ledger.domain.posting import Status
from clearway.ledger.domain.transactions import TransactionRecord

TRANSACTION_COLUMNS = (
    "transaction_id",
    "parent_transaction",
    "reference",
    "request_hash",
    "status",
    "currency",
    "amount_minor",
    "precision",
    "source",
    "destination",
    "sources",
    "destinations",
    "allow_overdraft",
    "overdraft_limit_minor",
    "inflight",
    "inflight_expiry_date",
    "scheduled_for",
    "effective_date",
    "description",
    "meta_data",
    "rejection_reason",
    "created_at",
)
TRANSACTION_COLUMN_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "text",
    "text",
    "jsonb",
    "jsonb",
    "boolean",
    "bigint",
    "boolean",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "text",
    "jsonb",
    "text",
    "timestamptz",
)
# jsonb values travel as JSON text (`PostingWriteRepository`): asyncpg would read a list-valued jsonb
# as another array dimension.
JSONB_TRANSACTION_COLUMNS = frozenset(index for index, kind in enumerate(TRANSACTION_COLUMN_TYPES) if kind == "jsonb")


def record_from_row(row: asyncpg.Record) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=row["transaction_id"],
        parent_transaction=row["parent_transaction"],
        reference=row["reference"],
        request_hash=row["request_hash"],
        status=Status(row["status"]),
        currency=row["currency"],
        amount_minor=row["amount_minor"],
        precision=row["precision"],
        source=row["source"],
        destination=row["destination"],
        sources=row["sources"],
        destinations=row["destinations"],
        allow_overdraft=row["allow_overdraft"],
        overdraft_limit_minor=row["overdraft_limit_minor"],
        inflight=row["inflight"],
        inflight_expiry_date=row["inflight_expiry_date"],
        scheduled_for=row["scheduled_for"],
        effective_date=row["effective_date"],
        description=row["description"],
        meta_data=row["meta_data"],
        rejection_reason=row["rejection_reason"],
        created_at=row["created_at"],
    )


class TransactionRepository(SqlRepository):
    async def transactions_by_reference(self, references: Sequence[str]) -> dict[str, TransactionRecord]:
        if not references:
            return {}
        rows = await self.connection.fetch(
            "SELECT * FROM transactions WHERE reference = ANY($1::text[])", list(references)
        )
        return {row["reference"]: record_from_row(row) for row in rows}

    async def transactions_by_id(self, transaction_ids: Sequence[str]) -> dict[str, TransactionRecord]:
        if not transaction_ids:
            return {}
        rows = await self.connection.fetch(
            "SELECT * FROM transactions WHERE transaction_id = ANY($1::text[])", list(transaction_ids)
        )
        return {row["transaction_id"]: record_from_row(row) for row in rows}

    async def get_transaction(self, transaction_id: str, workspace_id: str | None = None) -> TransactionRecord | None:
        row = await self.connection.fetchrow(
            f"SELECT * FROM transactions WHERE transaction_id = $1 AND {transaction_visible(2)}",  # noqa: S608
            transaction_id,
            workspace_id,
        )
        return record_from_row(row) if row else None

    async def get_transaction_by_reference(
        self, reference: str, workspace_id: str | None = None
    ) -> TransactionRecord | None:
        row = await self.connection.fetchrow(
            f"SELECT * FROM transactions WHERE reference = $1 AND {transaction_visible(2)}",  # noqa: S608
            reference,
            workspace_id,
        )
        return record_from_row(row) if row else None

    async def children_of(self, transaction_ids: Sequence[str]) -> list[TransactionRecord]:
        rows = await self.connection.fetch(
            "SELECT * FROM transactions WHERE parent_transaction = ANY($1::text[]) ORDER BY transaction_id",
            list(transaction_ids),
        )
        return [record_from_row(row) for row in rows]

    async def due_scheduled(self, now: datetime, limit: int) -> list[str]:
        rows = await self.connection.fetch(
            """
            SELECT t.transaction_id FROM transactions t
            WHERE t.status = 'SCHEDULED' AND t.scheduled_for <= $1
              AND NOT EXISTS (SELECT 1 FROM transactions c WHERE c.parent_transaction = t.transaction_id)
            ORDER BY t.scheduled_for LIMIT $2
            """,
            now,
            limit,
        )
        return [row["transaction_id"] for row in rows]
