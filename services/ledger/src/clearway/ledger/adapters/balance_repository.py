"""SQL for balances and their entries.

`BalanceRepository` is the posting path: get-or-create internal balances, lock in id order, or read
without locks for the fast lane (a batch's balance UPDATE and entry lines are written by
`posting_write_repository`). `BalanceCatalog` creates, reads and lists balances one at a time, and
recomputes a historical balance from the entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.adapters.tenancy_sql import balance_visible
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.tenancy import BalanceOwner

GENERAL_LEDGER_ID = "general_ledger_id"

BALANCE_SELECT = """
    balance_id, ledger_id, identity_id, indicator, currency, precision, balance, credit_balance,
    debit_balance, inflight_balance, inflight_credit_balance, inflight_debit_balance, version,
    meta_data, account_path, account_type, is_linked, is_clearing, created_at, updated_at
"""


# A balance as posting reads it, with its owner: the locked path's and the fast lane's reads alike.
_OWNED_BALANCE_COLUMNS = """b.balance_id, b.currency, b.credit_balance, b.debit_balance, b.inflight_credit_balance,
                   b.inflight_debit_balance, b.version, l.workspace_id,
                   COALESCE(b.indicator LIKE '@%', false) AS is_internal"""
_OWNED_BALANCES = "balances b JOIN ledgers l ON l.ledger_id = b.ledger_id"


def _owned(rows: list[asyncpg.Record]) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner]]:
    return (
        {row["balance_id"]: _state_from_row(row) for row in rows},
        {row["balance_id"]: BalanceOwner(row["workspace_id"], row["is_internal"]) for row in rows},
    )


def _state_from_row(row: asyncpg.Record) -> BalanceState:
    return BalanceState(
        balance_id=row["balance_id"],
        currency=row["currency"],
        credit_balance=row["credit_balance"],
        debit_balance=row["debit_balance"],
        inflight_credit_balance=row["inflight_credit_balance"],
        inflight_debit_balance=row["inflight_debit_balance"],
        version=row["version"],
    )


class BalanceRepository(SqlRepository):
    async def ensure_internal_balances(
        self, wanted: Sequence[tuple[str, str]], precisions: dict[str, int], new_ids: Sequence[str]
    ) -> dict[tuple[str, str], str]:
        """Get-or-create `@Name` balances (indicator, currency) in the general ledger."""
        if not wanted:
            return {}
        ordered = sorted(set(wanted))
        await self.connection.execute(
            """
            INSERT INTO balances (balance_id, ledger_id, indicator, currency, precision)
            SELECT id, $4, indicator, currency, precision
            FROM unnest($1::text[], $2::text[], $3::text[], $5::bigint[]) AS w(id, indicator, currency, precision)
            ON CONFLICT (indicator, currency) WHERE indicator IS NOT NULL DO NOTHING
            """,
            list(new_ids[: len(ordered)]),
            [indicator for indicator, _ in ordered],
            [currency for _, currency in ordered],
            GENERAL_LEDGER_ID,
            [precisions[currency] for _, currency in ordered],
        )
        rows = await self.connection.fetch(
            """
            SELECT b.balance_id, b.indicator, b.currency FROM balances b
            JOIN unnest($1::text[], $2::text[]) AS w(indicator, currency)
              ON b.indicator = w.indicator AND b.currency = w.currency
            """,
            [indicator for indicator, _ in ordered],
            [currency for _, currency in ordered],
        )
        return {(row["indicator"], row["currency"]): row["balance_id"] for row in rows}

    async def lock_balances(self, balance_ids: Iterable[str]) -> dict[str, BalanceState]:
        states, _ = await self.lock_owned_balances(balance_ids)
        return states

    async def lock_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner]]:
        """Lock in one fixed order (by id) so concurrent batches can never deadlock.

        Each balance's owner (its ledger's workspace, and whether it is an internal `@` balance)
        comes with the same query, so tenancy costs a batch no round trip (a primary-key join).
        """
        ordered = sorted(set(balance_ids))
        if not ordered:
            return {}, {}
        rows = await self.connection.fetch(
            f"""
            SELECT {_OWNED_BALANCE_COLUMNS} FROM {_OWNED_BALANCES}
            WHERE b.balance_id = ANY($1::text[]) ORDER BY b.balance_id FOR UPDATE OF b
            """,  # noqa: S608 - constants only
            ordered,
        )
        return _owned(rows)

    async def read_owned_balances(
        self, balance_ids: Iterable[str]
    ) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner], set[str]]:
        """The fast lane's read, without locks: each balance with its version and owner, and which of
        them have monitors (a batch touching one of those takes the locked path)."""
        rows = await self.connection.fetch(
            f"""
            SELECT {_OWNED_BALANCE_COLUMNS},
                   EXISTS (SELECT 1 FROM balance_monitors m WHERE m.balance_id = b.balance_id) AS monitored
            FROM {_OWNED_BALANCES} WHERE b.balance_id = ANY($1::text[])
            """,  # noqa: S608 - constants only
            sorted(set(balance_ids)),
        )
        states, owners = _owned(rows)
        return states, owners, {row["balance_id"] for row in rows if row["monitored"]}

    async def balance_owners(self, balance_ids: Iterable[str]) -> dict[str, BalanceOwner]:
        """Owners without locks: for a workspace's replay, whose balances a batch does not lock."""
        rows = await self.connection.fetch(
            """
            SELECT b.balance_id, l.workspace_id, COALESCE(b.indicator LIKE '@%', false) AS is_internal
            FROM balances b JOIN ledgers l ON l.ledger_id = b.ledger_id WHERE b.balance_id = ANY($1::text[])
            """,
            sorted(set(balance_ids)),
        )
        return {row["balance_id"]: BalanceOwner(row["workspace_id"], row["is_internal"]) for row in rows}


class BalanceCatalog(SqlRepository):
    async def insert_balance(
        self,
        *,
        balance_id: str,
        ledger_id: str,
        identity_id: str | None,
        indicator: str | None,
        currency: str,
        precision: int,
        meta_data: dict[str, Any],
        account_path: str | None = None,
        account_type: str | None = None,
        is_linked: bool = False,
        is_clearing: bool = False,
    ) -> asyncpg.Record | None:
        """Insert, or return None when the indicator (or account path) already exists."""
        return await self.connection.fetchrow(
            f"""
            INSERT INTO balances (balance_id, ledger_id, identity_id, indicator, currency, precision, meta_data,
                                  account_path, account_type, is_linked, is_clearing)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT DO NOTHING
            RETURNING {BALANCE_SELECT}
            """,  # noqa: S608
            balance_id,
            ledger_id,
            identity_id,
            indicator,
            currency,
            precision,
            meta_data,
            account_path,
            account_type,
            is_linked,
            is_clearing,
        )

    async def get_balance(self, balance_id: str, workspace_id: str | None = None) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE balance_id = $1 AND {balance_visible(2)}",  # noqa: S608
            balance_id,
            workspace_id,
        )

    async def balance_by_indicator(
        self, indicator: str, currency: str, workspace_id: str | None = None
    ) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE indicator = $1 AND currency = $2 AND {balance_visible(3)}",  # noqa: S608
            indicator,
            currency,
            workspace_id,
        )

    async def balance_by_account(self, ledger_id: str, account_path: str, currency: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE ledger_id = $1 AND account_path = $2 AND currency = $3",  # noqa: S608
            ledger_id,
            account_path,
            currency,
        )

    async def list_balances(
        self,
        *,
        ledger_id: str | None,
        identity_id: str | None,
        currency: str | None,
        limit: int,
        offset: int,
        workspace_id: str | None = None,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"""
            SELECT {BALANCE_SELECT} FROM balances
            WHERE ($1::text IS NULL OR ledger_id = $1) AND ($2::text IS NULL OR identity_id = $2)
              AND ($3::text IS NULL OR currency = $3) AND {balance_visible(6)}
            ORDER BY created_at, balance_id LIMIT $4 OFFSET $5
            """,  # noqa: S608
            ledger_id,
            identity_id,
            currency,
            limit,
            offset,
            workspace_id,
        )
        return rows

    async def balance_totals_at(self, balance_id: str, at: datetime) -> asyncpg.Record:
        """Recompute a balance from its entries up to `at` (historical balance)."""
        return await self.connection.fetchrow(
            """
            SELECT
              COALESCE(SUM(credit_minor) FILTER (WHERE bucket = 'applied'), 0)::bigint AS credit_balance,
              COALESCE(SUM(debit_minor) FILTER (WHERE bucket = 'applied'), 0)::bigint AS debit_balance,
              COALESCE(SUM(credit_minor) FILTER (WHERE bucket = 'inflight'), 0)::bigint AS inflight_credit_balance,
              COALESCE(SUM(debit_minor) FILTER (WHERE bucket = 'inflight'), 0)::bigint AS inflight_debit_balance
            FROM entries WHERE balance_id = $1 AND effective_at <= $2
            """,
            balance_id,
            at,
        )
