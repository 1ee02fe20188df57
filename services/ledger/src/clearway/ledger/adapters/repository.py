"""All ledger SQL. Reads return domain objects; batch writes use array binds and COPY."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.distribution import Leg
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import EntryLine, Hold, Status
from clearway.ledger.domain.transactions import TransactionRecord

GENERAL_LEDGER_ID = "general_ledger_id"

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
ENTRY_COLUMNS = (
    "transaction_id",
    "balance_id",
    "currency",
    "bucket",
    "debit_minor",
    "credit_minor",
    "effective_at",
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
# jsonb values travel as JSON text: asyncpg would read a list-valued jsonb as another array dimension.
TRANSACTION_INSERT = (
    f"INSERT INTO transactions ({', '.join(TRANSACTION_COLUMNS)}) SELECT "
    + ", ".join(f"c{index}::{kind}" for index, kind in enumerate(TRANSACTION_COLUMN_TYPES, start=1))
    + " FROM unnest("
    + ", ".join(
        f"${index}::{'text' if kind == 'jsonb' else kind}[]"
        for index, kind in enumerate(TRANSACTION_COLUMN_TYPES, start=1)
    )
    + ") AS u("
    + ", ".join(f"c{index}" for index in range(1, len(TRANSACTION_COLUMN_TYPES) + 1))
    + ")"
)
JSONB_TRANSACTION_COLUMNS = frozenset(index for index, kind in enumerate(TRANSACTION_COLUMN_TYPES) if kind == "jsonb")
BALANCE_SELECT = """
    balance_id, ledger_id, identity_id, indicator, currency, precision, balance, credit_balance,
    debit_balance, inflight_balance, inflight_credit_balance, inflight_debit_balance, version,
    meta_data, account_path, account_type, is_linked, is_clearing, created_at, updated_at
"""


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


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


def _record_tuple(record: TransactionRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, column) for column in TRANSACTION_COLUMNS)


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


class LedgerRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    # ---- transactions -------------------------------------------------------------------

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

    async def get_transaction(self, transaction_id: str) -> TransactionRecord | None:
        row = await self.connection.fetchrow("SELECT * FROM transactions WHERE transaction_id = $1", transaction_id)
        return record_from_row(row) if row else None

    async def get_transaction_by_reference(self, reference: str) -> TransactionRecord | None:
        row = await self.connection.fetchrow("SELECT * FROM transactions WHERE reference = $1", reference)
        return record_from_row(row) if row else None

    async def children_of(self, transaction_ids: Sequence[str]) -> list[TransactionRecord]:
        rows = await self.connection.fetch(
            "SELECT * FROM transactions WHERE parent_transaction = ANY($1::text[]) ORDER BY transaction_id",
            list(transaction_ids),
        )
        return [record_from_row(row) for row in rows]

    async def insert_transactions(self, records: Iterable[TransactionRecord]) -> None:
        rows = [_record_tuple(record) for record in records]
        if rows:
            # unnest rather than COPY: asyncpg's COPY has no encoder for jsonb columns.
            columns = list(zip(*rows, strict=True))
            arguments = [
                [_json_text(value) for value in column] if index in JSONB_TRANSACTION_COLUMNS else list(column)
                for index, column in enumerate(columns)
            ]
            await self.connection.execute(TRANSACTION_INSERT, *arguments)

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

    # ---- balances -----------------------------------------------------------------------

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
        """Lock in one fixed order (by id) so concurrent batches can never deadlock."""
        ordered = sorted(set(balance_ids))
        if not ordered:
            return {}
        rows = await self.connection.fetch(
            """
            SELECT balance_id, currency, credit_balance, debit_balance, inflight_credit_balance,
                   inflight_debit_balance, version
            FROM balances WHERE balance_id = ANY($1::text[]) ORDER BY balance_id FOR UPDATE
            """,
            ordered,
        )
        return {row["balance_id"]: _state_from_row(row) for row in rows}

    async def save_balances(self, states: Iterable[BalanceState]) -> None:
        """One UPDATE for every balance a batch touched, however many transfers touched it."""
        touched = [state for state in states if state.touched]
        if not touched:
            return
        await self.connection.execute(
            """
            UPDATE balances b SET
                credit_balance = v.credit, debit_balance = v.debit,
                inflight_credit_balance = v.inflight_credit, inflight_debit_balance = v.inflight_debit,
                version = b.version + 1, updated_at = now()
            FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                AS v(balance_id, credit, debit, inflight_credit, inflight_debit)
            WHERE b.balance_id = v.balance_id
            """,
            [state.balance_id for state in touched],
            [state.credit_balance for state in touched],
            [state.debit_balance for state in touched],
            [state.inflight_credit_balance for state in touched],
            [state.inflight_debit_balance for state in touched],
        )

    async def insert_entries(self, lines: Sequence[tuple[EntryLine, datetime]], created_at: datetime) -> None:
        if not lines:
            return
        await self.connection.copy_records_to_table(
            "entries",
            records=[
                (
                    line.transaction_id,
                    line.balance_id,
                    line.currency,
                    line.bucket.value,
                    line.debit_minor,
                    line.credit_minor,
                    effective_at,
                    created_at,
                )
                for line, effective_at in lines
            ],
            columns=ENTRY_COLUMNS,
        )

    # ---- holds --------------------------------------------------------------------------

    async def lock_holds(self, transaction_ids: Iterable[str]) -> dict[str, tuple[Hold, datetime | None]]:
        ordered = sorted(set(transaction_ids))
        if not ordered:
            return {}
        rows = await self.connection.fetch(
            """
            SELECT transaction_id, currency, debits, credits, amount_minor, committed_minor, voided_minor,
                   expires_at
            FROM holds WHERE transaction_id = ANY($1::text[]) ORDER BY transaction_id FOR UPDATE
            """,
            ordered,
        )
        return {
            row["transaction_id"]: (
                Hold(
                    transaction_id=row["transaction_id"],
                    currency=row["currency"],
                    debits=tuple(Leg(item[0], int(item[1])) for item in row["debits"]),
                    credits=tuple(Leg(item[0], int(item[1])) for item in row["credits"]),
                    amount_minor=row["amount_minor"],
                    committed_minor=row["committed_minor"],
                    voided_minor=row["voided_minor"],
                ),
                row["expires_at"],
            )
            for row in rows
        }

    async def insert_holds(self, holds: Sequence[tuple[Hold, datetime | None]]) -> None:
        if not holds:
            return
        await self.connection.executemany(
            """
            INSERT INTO holds (transaction_id, currency, debits, credits, amount_minor, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [
                (
                    hold.transaction_id,
                    hold.currency,
                    [[leg.identifier, leg.amount_minor] for leg in hold.debits],
                    [[leg.identifier, leg.amount_minor] for leg in hold.credits],
                    hold.amount_minor,
                    expires_at,
                )
                for hold, expires_at in holds
            ],
        )

    async def save_holds(self, holds: Sequence[Hold]) -> None:
        if not holds:
            return
        await self.connection.execute(
            """
            UPDATE holds h SET committed_minor = v.committed, voided_minor = v.voided, updated_at = now()
            FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(transaction_id, committed, voided)
            WHERE h.transaction_id = v.transaction_id
            """,
            [hold.transaction_id for hold in holds],
            [hold.committed_minor for hold in holds],
            [hold.voided_minor for hold in holds],
        )

    async def expired_holds(self, now: datetime, limit: int) -> list[str]:
        rows = await self.connection.fetch(
            """
            SELECT transaction_id FROM holds
            WHERE committed_minor + voided_minor < amount_minor AND expires_at IS NOT NULL AND expires_at <= $1
            ORDER BY expires_at LIMIT $2
            """,
            now,
            limit,
        )
        return [row["transaction_id"] for row in rows]

    # ---- monitors -----------------------------------------------------------------------

    async def monitors_for(self, balance_ids: Sequence[str]) -> list[Monitor]:
        if not balance_ids:
            return []
        rows = await self.connection.fetch(
            """SELECT monitor_id, balance_id, field, operator, value_minor, is_triggered
               FROM balance_monitors WHERE balance_id = ANY($1::text[])""",
            list(balance_ids),
        )
        return [Monitor(**dict(row)) for row in rows]

    async def set_monitor_states(self, states: Sequence[tuple[str, bool]]) -> None:
        if states:
            await self.connection.execute(
                """UPDATE balance_monitors m SET is_triggered = v.triggered
                   FROM unnest($1::text[], $2::boolean[]) AS v(monitor_id, triggered)
                   WHERE m.monitor_id = v.monitor_id""",
                [monitor_id for monitor_id, _ in states],
                [triggered for _, triggered in states],
            )

    # ---- outbox -------------------------------------------------------------------------

    async def insert_outbox(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        await self.connection.execute(
            """
            INSERT INTO outbox (event_id, topic, message_key, event_type, headers, payload, created_at)
            SELECT e, t, k, y, h::jsonb, p::jsonb, c
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                AS u(e, t, k, y, h, p, c)
            """,
            *[
                [_json_text(value) for value in column] if index in (4, 5) else list(column)
                for index, column in enumerate(columns)
            ],
        )
        await self.connection.execute("SELECT pg_notify('clearway_outbox', '')")


class CatalogRepository:
    """Ledgers, identities, balances and monitors: the low-volume records around the books."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def insert_ledger(self, ledger_id: str, name: str, meta_data: dict[str, Any]) -> asyncpg.Record:
        return await self.connection.fetchrow(
            "INSERT INTO ledgers (ledger_id, name, meta_data) VALUES ($1, $2, $3) RETURNING *",
            ledger_id,
            name,
            meta_data,
        )

    async def get_ledger(self, ledger_id: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow("SELECT * FROM ledgers WHERE ledger_id = $1", ledger_id)

    async def list_ledgers(self, limit: int, offset: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT * FROM ledgers ORDER BY created_at, ledger_id LIMIT $1 OFFSET $2", limit, offset
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
            """,
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

    async def get_balance(self, balance_id: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE balance_id = $1", balance_id
        )

    async def balance_by_indicator(self, indicator: str, currency: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE indicator = $1 AND currency = $2", indicator, currency
        )

    async def balance_by_account(self, ledger_id: str, account_path: str, currency: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow(
            f"SELECT {BALANCE_SELECT} FROM balances WHERE ledger_id = $1 AND account_path = $2 AND currency = $3",
            ledger_id,
            account_path,
            currency,
        )

    async def list_balances(
        self, *, ledger_id: str | None, identity_id: str | None, currency: str | None, limit: int, offset: int
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"""
            SELECT {BALANCE_SELECT} FROM balances
            WHERE ($1::text IS NULL OR ledger_id = $1) AND ($2::text IS NULL OR identity_id = $2)
              AND ($3::text IS NULL OR currency = $3)
            ORDER BY created_at, balance_id LIMIT $4 OFFSET $5
            """,
            ledger_id,
            identity_id,
            currency,
            limit,
            offset,
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

    async def insert_monitor(
        self,
        monitor_id: str,
        balance_id: str,
        field: str,
        operator: str,
        value_minor: int,
        precision: int,
        description: str,
    ) -> asyncpg.Record:
        return await self.connection.fetchrow(
            """INSERT INTO balance_monitors (monitor_id, balance_id, field, operator, value_minor, precision, description)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
            monitor_id,
            balance_id,
            field,
            operator,
            value_minor,
            precision,
            description,
        )

    async def get_monitor(self, monitor_id: str) -> asyncpg.Record | None:
        return await self.connection.fetchrow("SELECT * FROM balance_monitors WHERE monitor_id = $1", monitor_id)

    async def list_monitors(self, limit: int, offset: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT * FROM balance_monitors ORDER BY created_at, monitor_id LIMIT $1 OFFSET $2", limit, offset
        )
        return rows

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
        where = " AND ".join(conditions) or "TRUE"
        total = await self.connection.fetchval(f"SELECT count(*) FROM transactions WHERE {where}", *arguments)
        direction = "DESC" if descending else "ASC"
        arguments += [limit, offset]
        rows = await self.connection.fetch(
            f"SELECT * FROM transactions WHERE {where} ORDER BY {sort_column} {direction}, transaction_id {direction} "
            f"LIMIT ${len(arguments) - 1} OFFSET ${len(arguments)}",
            *arguments,
        )
        return total, [record_from_row(row) for row in rows]


SEARCHABLE_COLUMNS = frozenset(
    {"reference", "source", "destination", "transaction_id", "description", "status", "currency", "parent_transaction"}
)
