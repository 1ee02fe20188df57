"""SQL for the write half of a group-commit batch, in one round trip.

A batch used to write with five statements (transactions, entries by COPY, balances, outbox,
`pg_notify`) and then read the monitors of the balances it touched: six round trips, each a
context switch to PostgreSQL and back, which at a few transfers per batch cost more than the SQL
(issue 13's profile). Here they are one statement: data-modifying CTEs, each an array bind
(`unnest`), and the monitors read by the final SELECT. Every CTE runs whether or not it is
referenced, and a foreign key (an entry's transaction) is checked at the end of the statement, so
the order of the CTEs does not matter. The monitors are read after the balances were locked (an
earlier statement), so a previous batch's monitor states are visible, as they were before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clearway.ledger.adapters.sql import SqlRepository, json_text
from clearway.ledger.adapters.transaction_repository import (
    JSONB_TRANSACTION_COLUMNS,
    TRANSACTION_COLUMN_TYPES,
    TRANSACTION_COLUMNS,
)
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.monitors import Monitor
from clearway.ledger.domain.posting import EntryLine
from clearway.ledger.domain.transactions import TransactionRecord

_TRANSACTION_COUNT = len(TRANSACTION_COLUMNS)
_ENTRIES_AT = _TRANSACTION_COUNT + 1  # 8 parameters
_BALANCES_AT = _ENTRIES_AT + 8  # 5 parameters
_OUTBOX_AT = _BALANCES_AT + 5  # 7 parameters
_NOTIFY_AT = _OUTBOX_AT + 7  # 1 parameter


def _placeholders(start: int, kinds: Sequence[str]) -> str:
    return ", ".join(f"${start + offset}::{kind}[]" for offset, kind in enumerate(kinds))


def _columns(count: int) -> str:
    return ", ".join(f"c{index}" for index in range(1, count + 1))


_TRANSACTION_BIND_TYPES = ["text" if kind == "jsonb" else kind for kind in TRANSACTION_COLUMN_TYPES]
_ENTRY_BINDS = _placeholders(
    _ENTRIES_AT, ("text", "text", "text", "text", "bigint", "bigint", "timestamptz", "timestamptz")
)

WRITE_POSTINGS = f"""
WITH new_transactions AS (
    INSERT INTO transactions ({", ".join(TRANSACTION_COLUMNS)})
    SELECT {", ".join(f"c{index}::{kind}" for index, kind in enumerate(TRANSACTION_COLUMN_TYPES, start=1))}
    FROM unnest({_placeholders(1, _TRANSACTION_BIND_TYPES)}) AS u({_columns(_TRANSACTION_COUNT)})
), new_entries AS (
    INSERT INTO entries (transaction_id, balance_id, currency, bucket, debit_minor, credit_minor, effective_at,
                         created_at)
    SELECT * FROM unnest({_ENTRY_BINDS})
), saved_balances AS (
    UPDATE balances b SET
        credit_balance = v.credit, debit_balance = v.debit,
        inflight_credit_balance = v.inflight_credit, inflight_debit_balance = v.inflight_debit,
        version = b.version + 1, updated_at = now()
    FROM unnest({_placeholders(_BALANCES_AT, ("text", "bigint", "bigint", "bigint", "bigint"))})
        AS v(balance_id, credit, debit, inflight_credit, inflight_debit)
    WHERE b.balance_id = v.balance_id
), new_events AS (
    INSERT INTO outbox (event_id, topic, message_key, event_type, headers, payload, created_at)
    SELECT e, t, k, y, h::jsonb, p::jsonb, c
    FROM unnest({_placeholders(_OUTBOX_AT, ("text", "text", "text", "text", "text", "text", "timestamptz"))})
        AS o(e, t, k, y, h, p, c)
)
SELECT
    (SELECT json_agg(json_build_object(
        'monitor_id', m.monitor_id, 'balance_id', m.balance_id, 'field', m.field, 'operator', m.operator,
        'value_minor', m.value_minor, 'is_triggered', m.is_triggered))
     FROM balance_monitors m WHERE m.balance_id = ANY(${_BALANCES_AT}::text[])) AS monitors,
    CASE WHEN ${_NOTIFY_AT}::boolean THEN pg_notify('clearway_outbox', '') END AS notified
"""  # noqa: S608


class PostingWriteRepository(SqlRepository):
    async def write_postings(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
    ) -> list[Monitor]:
        """Insert the transactions, their entry lines and outbox events, save each touched balance
        once, and answer the monitors on the touched balances (their states as committed so far)."""
        if not (records or lines or touched or outbox):
            return []
        transaction_columns: list[list[Any]] = [[] for _ in TRANSACTION_COLUMNS]
        for record in records:
            for index, column in enumerate(TRANSACTION_COLUMNS):
                value = getattr(record, column)
                transaction_columns[index].append(json_text(value) if index in JSONB_TRANSACTION_COLUMNS else value)
        entry_columns: list[list[Any]] = [[] for _ in range(8)]
        for line, effective_at in lines:
            for index, value in enumerate(
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
            ):
                entry_columns[index].append(value)
        balance_columns = [
            [state.balance_id for state in touched],
            [state.credit_balance for state in touched],
            [state.debit_balance for state in touched],
            [state.inflight_credit_balance for state in touched],
            [state.inflight_debit_balance for state in touched],
        ]
        outbox_columns: list[list[Any]] = [[] for _ in range(7)]
        for row in outbox:
            for index, value in enumerate(row):
                outbox_columns[index].append(json_text(value) if index in (4, 5) else value)
        row = await self.connection.fetchrow(
            WRITE_POSTINGS, *transaction_columns, *entry_columns, *balance_columns, *outbox_columns, bool(outbox)
        )
        assert row is not None
        return [Monitor(**document) for document in row["monitors"] or []]
