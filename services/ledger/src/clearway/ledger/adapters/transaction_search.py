"""Transaction search and listing: a WHERE clause built from the request, bound by position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.adapters.tenancy_sql import transaction_visible
from clearway.ledger.adapters.transaction_repository import record_from_row
from clearway.ledger.domain.transactions import TransactionRecord

SEARCHABLE_COLUMNS = frozenset(
    {"reference", "source", "destination", "transaction_id", "description", "status", "currency", "parent_transaction"}
)


class TransactionSearch(SqlRepository):
    async def search_transactions(
        self,
        *,
        text_query: str | None,
        query_by: Sequence[str],
        created_from: datetime | None,
        created_to: datetime | None,
        filters: dict[str, str],
        sort_column: str,
        descending: bool,
        limit: int,
        offset: int,
        workspace_id: str | None = None,
    ) -> tuple[int, list[TransactionRecord]]:
        """PostgreSQL-backed subset of Blnk's Typesense search (`q`, `query_by`, `filter_by`, `sort_by`)."""
        assert sort_column in {"created_at", "amount_minor", "effective_date"}
        assert set(query_by) <= SEARCHABLE_COLUMNS and set(filters) <= SEARCHABLE_COLUMNS
        conditions: list[str] = []
        arguments: list[Any] = []
        if text_query and text_query != "*":
            arguments.append(text_query)
            columns = query_by or ["reference", "source", "destination", "transaction_id", "description"]
            matches = [f"{column} = ${len(arguments)}" for column in columns]
            # A split's legs are in sources/destinations, so "q=<balance id>" finds them too.
            if "source" in columns:
                matches.append(
                    f"sources @> jsonb_build_array(jsonb_build_object('balance_id', ${len(arguments)}::text))"
                )
            if "destination" in columns:
                matches.append(
                    f"destinations @> jsonb_build_array(jsonb_build_object('balance_id', ${len(arguments)}::text))"
                )
            conditions.append("(" + " OR ".join(matches) + ")")
        if created_from is not None:
            arguments.append(created_from)
            conditions.append(f"created_at >= ${len(arguments)}")
        if created_to is not None:
            arguments.append(created_to)
            conditions.append(f"created_at <= ${len(arguments)}")
        for column, value in filters.items():
            arguments.append(value)
            conditions.append(f"{column} = ${len(arguments)}")
        if workspace_id is not None:  # a workspace sees the transactions that move its balances
            arguments.append(workspace_id)
            conditions.append(transaction_visible(len(arguments)))
        where = " AND ".join(conditions) or "TRUE"
        total = await self.connection.fetchval(f"SELECT count(*) FROM transactions WHERE {where}", *arguments)  # noqa: S608
        direction = "DESC" if descending else "ASC"
        arguments += [limit, offset]
        rows = await self.connection.fetch(
            f"SELECT * FROM transactions WHERE {where} ORDER BY {sort_column} {direction}, transaction_id {direction} "  # noqa: S608
            f"LIMIT ${len(arguments) - 1} OFFSET ${len(arguments)}",
            *arguments,
        )
        return total, [record_from_row(row) for row in rows]
