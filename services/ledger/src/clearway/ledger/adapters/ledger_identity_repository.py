"""SQL for ledgers and identities: the records a balance belongs to."""

from __future__ import annotations

from typing import Any

import asyncpg

from clearway.ledger.adapters.sql import SqlRepository


class LedgerIdentityCatalog(SqlRepository):
    async def insert_ledger(
        self, ledger_id: str, name: str, meta_data: dict[str, Any], ik: str | None = None
    ) -> asyncpg.Record | None:
        """The new ledger, or None when a ledger with `ik` exists (also one a concurrent create
        just committed: the insert waits for it on the unique index, then does nothing)."""
        row: asyncpg.Record | None = await self.connection.fetchrow(
            """INSERT INTO ledgers (ledger_id, name, meta_data, ik) VALUES ($1, $2, $3, $4)
               ON CONFLICT (ik) WHERE ik IS NOT NULL DO NOTHING RETURNING *""",
            ledger_id,
            name,
            meta_data,
            ik,
        )
        return row

    async def get_ledger(self, ledger_id: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow("SELECT * FROM ledgers WHERE ledger_id = $1", ledger_id)

    async def ledger_by_ik(self, ik: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow("SELECT * FROM ledgers WHERE ik = $1", ik)

    async def list_ledgers(self, limit: int, offset: int, ik: str | None = None) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            """SELECT * FROM ledgers WHERE ($3::text IS NULL OR ik = $3)
               ORDER BY created_at, ledger_id LIMIT $1 OFFSET $2""",
            limit,
            offset,
            ik,
        )
        return rows

    async def insert_identity(
        self, identity_id: str, identity_type: str | None, attributes: dict[str, Any], meta_data: dict[str, Any]
    ) -> asyncpg.Record:
        return await self.connection.fetchrow(
            """INSERT INTO identities (identity_id, identity_type, attributes, meta_data)
               VALUES ($1, $2, $3, $4) RETURNING *""",
            identity_id,
            identity_type,
            attributes,
            meta_data,
        )

    async def get_identity(self, identity_id: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow("SELECT * FROM identities WHERE identity_id = $1", identity_id)

    async def list_identities(self, limit: int, offset: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT * FROM identities ORDER BY created_at, identity_id LIMIT $1 OFFSET $2", limit, offset
        )
        return rows
