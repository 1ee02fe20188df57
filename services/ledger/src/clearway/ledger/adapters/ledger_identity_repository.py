"""SQL for ledgers and identities: the records a balance belongs to.

Reads take the reader's `workspace_id` (None: the platform, which sees every row); a row of
another workspace reads as absent. See `tenancy_sql.py`.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.adapters.tenancy_sql import identity_visible, ledger_visible


class LedgerIdentityCatalog(SqlRepository):
    async def insert_ledger(
        self,
        ledger_id: str,
        name: str,
        meta_data: dict[str, Any],
        ik: str | None = None,
        workspace_id: str | None = None,
    ) -> asyncpg.Record | None:
        """The new ledger, or None when its owner has a ledger with `ik` (also one a concurrent
        create just committed: the insert waits for it on the unique index, then does nothing)."""
        row: asyncpg.Record | None = await self.connection.fetchrow(
            """INSERT INTO ledgers (ledger_id, name, meta_data, ik, workspace_id) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT ((COALESCE(workspace_id, '')), ik) WHERE ik IS NOT NULL DO NOTHING RETURNING *""",
            ledger_id,
            name,
            meta_data,
            ik,
            workspace_id,
        )
        return row

    async def get_ledger(self, ledger_id: str, workspace_id: str | None = None) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT * FROM ledgers WHERE ledger_id = $1 AND {ledger_visible(2)}",  # noqa: S608
            ledger_id,
            workspace_id,
        )

    async def ledger_owned_by_ik(self, ik: str, workspace_id: str | None) -> asyncpg.Record | None:
        """The ledger `workspace_id` (None: the platform itself) created with `ik`: iks are per owner."""
        return await self.connection.fetchrow(
            "SELECT * FROM ledgers WHERE ik = $1 AND COALESCE(workspace_id, '') = COALESCE($2::text, '')",
            ik,
            workspace_id,
        )

    async def list_ledgers(
        self, limit: int, offset: int, ik: str | None = None, workspace_id: str | None = None
    ) -> list[asyncpg.Record]:
        """Visible ledgers by creation. With `ik`, the one ledger the reader's own owner created with
        it (the platform's for a platform key): an ik is a name its owner chose, and a workspace must
        never be able to answer a platform service's lookup of its ledger by ik."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"""SELECT * FROM ledgers
               WHERE CASE WHEN $3::text IS NULL THEN {ledger_visible(4)}
                          ELSE ik = $3 AND COALESCE(workspace_id, '') = COALESCE($4::text, '') END
               ORDER BY created_at, ledger_id LIMIT $1 OFFSET $2""",  # noqa: S608
            limit,
            offset,
            ik,
            workspace_id,
        )
        return rows

    async def insert_identity(
        self,
        identity_id: str,
        identity_type: str | None,
        attributes: dict[str, Any],
        meta_data: dict[str, Any],
        workspace_id: str | None = None,
    ) -> asyncpg.Record:
        return await self.connection.fetchrow(
            """INSERT INTO identities (identity_id, identity_type, attributes, meta_data, workspace_id)
               VALUES ($1, $2, $3, $4, $5) RETURNING *""",
            identity_id,
            identity_type,
            attributes,
            meta_data,
            workspace_id,
        )

    async def get_identity(self, identity_id: str, workspace_id: str | None = None) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT * FROM identities WHERE identity_id = $1 AND {identity_visible(2)}",  # noqa: S608
            identity_id,
            workspace_id,
        )

    async def list_identities(self, limit: int, offset: int, workspace_id: str | None = None) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"""SELECT * FROM identities WHERE {identity_visible(3)}
               ORDER BY created_at, identity_id LIMIT $1 OFFSET $2""",  # noqa: S608
            limit,
            offset,
            workspace_id,
        )
        return rows
