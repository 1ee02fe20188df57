"""SQL for ledger schemas, schema entries and schema accounts (balances with a path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from clearway.ledger.adapters.balance_repository import BALANCE_SELECT

# The shapes the posting port speaks in (`service/ports.py`), which this module implements in part.
from clearway.ledger.service.ports import AccountKey, AccountRow, EntryRow, NewAccount

ENTRY_COLUMNS = (
    "entry_id",
    "ledger_id",
    "ik",
    "entry_type",
    "schema_key",
    "schema_version",
    "currency",
    "amount_minor",
    "parameters",
    "lines",
    "description",
    "request_hash",
    "transaction_id",
    "external_transaction_id",
    "created_at",
    "updated_at",
)
ENTRY_COLUMN_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "text",
    "integer",
    "text",
    "bigint",
    "jsonb",
    "jsonb",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
)
# jsonb travels as JSON text inside the arrays (see transaction_repository.TRANSACTION_INSERT for why).
ENTRY_INSERT = (
    f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) SELECT "  # noqa: S608
    + ", ".join(f"c{index}::{kind}" for index, kind in enumerate(ENTRY_COLUMN_TYPES, start=1))
    + " FROM unnest("
    + ", ".join(
        f"${index}::{'text' if kind == 'jsonb' else kind}[]" for index, kind in enumerate(ENTRY_COLUMN_TYPES, start=1)
    )
    + ") AS u("
    + ", ".join(f"c{index}" for index in range(1, len(ENTRY_COLUMN_TYPES) + 1))
    + ")"
)
ACCOUNT_COLUMNS = "balance_id, ledger_id, account_path, currency, account_type, is_linked, is_clearing"


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _accounts_from_rows(rows: Sequence[asyncpg.Record]) -> dict[AccountKey, AccountRow]:
    return {
        AccountKey(row["ledger_id"], row["account_path"], row["currency"]): AccountRow(
            balance_id=row["balance_id"],
            account_type=row["account_type"],
            is_linked=row["is_linked"],
            is_clearing=row["is_clearing"],
        )
        for row in rows
    }


class SchemaRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    # ---- schemas ------------------------------------------------------------------------

    async def lock_ledger(self, ledger_id: str) -> bool:
        """Serialise schema changes per ledger (row lock on the ledger); False if it does not exist."""
        found = await self.connection.fetchval("SELECT true FROM ledgers WHERE ledger_id = $1 FOR UPDATE", ledger_id)
        return bool(found)

    async def ledger_exists(self, ledger_id: str) -> bool:
        return bool(await self.connection.fetchval("SELECT true FROM ledgers WHERE ledger_id = $1", ledger_id))

    async def insert_schema(self, ledger_id: str, key: str, version: int, document: dict[str, Any]) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            """INSERT INTO ledger_schemas (ledger_id, key, version, document) VALUES ($1, $2, $3, $4)
               RETURNING ledger_id, key, version, document, created_at""",
            ledger_id,
            key,
            version,
            document,
        )
        return row

    async def get_schema(self, ledger_id: str, key: str, version: int | None) -> asyncpg.Record | None:
        """One version of `key`, or its latest when `version` is None."""
        row: asyncpg.Record | None = await self.connection.fetchrow(
            """SELECT ledger_id, key, version, document, created_at FROM ledger_schemas
               WHERE ledger_id = $1 AND key = $2 AND ($3::integer IS NULL OR version = $3)
               ORDER BY version DESC LIMIT 1""",
            ledger_id,
            key,
            version,
        )
        return row

    async def latest_schemas(self, ledger_id: str, limit: int) -> list[asyncpg.Record]:
        """The latest version of each schema key the ledger carries, by key."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            """SELECT DISTINCT ON (key) ledger_id, key, version, document, created_at FROM ledger_schemas
               WHERE ledger_id = $1 ORDER BY key, version DESC LIMIT $2""",
            ledger_id,
            limit,
        )
        return rows

    async def account_kinds(self, ledger_id: str, limit: int) -> list[asyncpg.Record]:
        """Each distinct (path prefix, template?, type, flags) among the ledger's accounts.

        Template instances collapse to their prefix, so this stays small however many
        `liabilities/user_balances:<id>` accounts exist.
        """
        rows: list[asyncpg.Record] = await self.connection.fetch(
            """SELECT DISTINCT split_part(account_path, ':', 1) AS prefix, strpos(account_path, ':') > 0 AS is_template,
                      account_type, is_linked, is_clearing
               FROM balances WHERE ledger_id = $1 AND account_path IS NOT NULL
               ORDER BY prefix LIMIT $2""",
            ledger_id,
            limit,
        )
        return rows

    # ---- accounts -----------------------------------------------------------------------

    async def ensure_accounts(self, accounts: Sequence[NewAccount]) -> tuple[dict[AccountKey, AccountRow], set[str]]:
        """Get-or-create account balances: (every account asked for, ids of those just created).

        Inserts go in key order, so two batches creating the same accounts wait on each other
        instead of deadlocking.
        """
        if not accounts:
            return {}, set()
        ordered = sorted(accounts, key=lambda item: (item.key.ledger_id, item.key.path, item.key.currency))
        created = await self.connection.fetch(
            """
            INSERT INTO balances (balance_id, ledger_id, account_path, currency, precision, account_type,
                                  is_linked, is_clearing)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                                 $7::boolean[], $8::boolean[])
            ON CONFLICT (ledger_id, account_path, currency) WHERE account_path IS NOT NULL DO NOTHING
            RETURNING balance_id
            """,
            [item.balance_id for item in ordered],
            [item.key.ledger_id for item in ordered],
            [item.key.path for item in ordered],
            [item.key.currency for item in ordered],
            [item.precision for item in ordered],
            [item.account_type for item in ordered],
            [item.is_linked for item in ordered],
            [item.is_clearing for item in ordered],
        )
        return await self.find_accounts([item.key for item in ordered]), {row["balance_id"] for row in created}

    async def delete_unused_accounts(self, balance_ids: Sequence[str]) -> None:
        """Drop accounts this transaction created for entries that were then refused. Nothing
        else can see or reference them yet: they were inserted in this same transaction.
        """
        if not balance_ids:
            return
        await self.connection.execute(
            """DELETE FROM balances WHERE balance_id = ANY($1::text[]) AND credit_balance = 0 AND debit_balance = 0
               AND inflight_credit_balance = 0 AND inflight_debit_balance = 0""",
            list(balance_ids),
        )

    async def find_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, AccountRow]:
        if not keys:
            return {}
        rows = await self.connection.fetch(
            f"""
            SELECT {ACCOUNT_COLUMNS} FROM balances b
            JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(ledger_id, account_path, currency)
              USING (ledger_id, account_path, currency)
            """,  # noqa: S608
            [key.ledger_id for key in keys],
            [key.path for key in keys],
            [key.currency for key in keys],
        )
        return _accounts_from_rows(rows)

    async def list_accounts(
        self,
        *,
        ledger_id: str,
        path_regex: str | None,
        clearing_status: str | None,
        currency: str | None,
        starting_after: str | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        """Accounts by balance id (the cursor). `clearing_status` keeps only clearing accounts."""
        assert clearing_status in (None, "pending", "cleared")
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"""
            SELECT {BALANCE_SELECT} FROM balances
            WHERE ledger_id = $1 AND account_path IS NOT NULL
              AND ($2::text IS NULL OR account_path ~ $2)
              AND ($3::text IS NULL OR (is_clearing AND (balance = 0) = ($3 = 'cleared')))
              AND ($4::text IS NULL OR currency = $4)
              AND ($5::text IS NULL OR balance_id > $5)
            ORDER BY balance_id LIMIT $6
            """,  # noqa: S608
            ledger_id,
            path_regex,
            clearing_status,
            currency,
            starting_after,
            limit,
        )
        return rows

    # ---- entries ------------------------------------------------------------------------

    async def get_entry(self, ledger_id: str, ik: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.connection.fetchrow(
            "SELECT * FROM ledger_entries WHERE ledger_id = $1 AND ik = $2", ledger_id, ik
        )
        return row

    async def reconciled_by(self, ledger_id: str, external_ids: Sequence[str]) -> dict[str, str]:
        """External transaction id -> the ik of the entry that reconciled it."""
        if not external_ids:
            return {}
        rows = await self.connection.fetch(
            """SELECT external_transaction_id, ik FROM ledger_entries
               WHERE ledger_id = $1 AND external_transaction_id = ANY($2::text[])""",
            ledger_id,
            list(external_ids),
        )
        return {row["external_transaction_id"]: row["ik"] for row in rows}

    async def insert_entries(self, entries: Sequence[EntryRow]) -> None:
        if not entries:
            return
        columns = [[getattr(entry, column) for entry in entries] for column in ENTRY_COLUMNS]
        arguments = [
            [_json_text(value) for value in column] if kind == "jsonb" else column
            for column, kind in zip(columns, ENTRY_COLUMN_TYPES, strict=True)
        ]
        await self.connection.execute(ENTRY_INSERT, *arguments)

    async def mark_reversed(self, reversals: Sequence[tuple[str, str, str]], now: datetime) -> None:
        """(ledger_id, ik, reversal transaction id) for entries reversed in this batch."""
        if not reversals:
            return
        await self.connection.execute(
            """
            UPDATE ledger_entries e SET reversed_by = r.transaction_id, updated_at = $4
            FROM unnest($1::text[], $2::text[], $3::text[]) AS r(ledger_id, ik, transaction_id)
            WHERE e.ledger_id = r.ledger_id AND e.ik = r.ik AND e.reversed_by IS NULL
            """,
            [ledger_id for ledger_id, _, _ in reversals],
            [ik for _, ik, _ in reversals],
            [transaction_id for _, _, transaction_id in reversals],
            now,
        )
