"""SQL for the write half of a group-commit batch, in one round trip.

A batch used to write with five statements (transactions, entries by COPY, balances, outbox,
`pg_notify`) and then read the monitors of the balances it touched: six round trips, each a
context switch to PostgreSQL and back, which at a few transfers per batch cost more than the SQL
(issue 13's profile). Here they are one statement: data-modifying CTEs, each an array bind
(`unnest`), and the monitors read by the final SELECT. Every data-modifying CTE runs whether or not
it is referenced (those not referenced after the main query), so the order of the CTEs does not
matter. The monitors are read after the balances were locked (an earlier statement), so a previous
batch's monitor states are visible, as they were before.
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

_INSERT_TRANSACTIONS = f"""new_transactions AS (
    INSERT INTO transactions ({", ".join(TRANSACTION_COLUMNS)})
    SELECT {", ".join(f"c{index}::{kind}" for index, kind in enumerate(TRANSACTION_COLUMN_TYPES, start=1))}
    FROM unnest({_placeholders(1, _TRANSACTION_BIND_TYPES)}) AS u({_columns(_TRANSACTION_COUNT)})
), new_entries AS (
    INSERT INTO entries (transaction_id, balance_id, currency, bucket, debit_minor, credit_minor, effective_at,
                         created_at)
    SELECT * FROM unnest({_ENTRY_BINDS})
)"""  # noqa: S608
_INSERT_EVENTS = f"""new_events AS (
    INSERT INTO outbox (event_id, topic, message_key, event_type, headers, payload, created_at)
    SELECT e, t, k, y, h::jsonb, p::jsonb, c
    FROM unnest({_placeholders(_OUTBOX_AT, ("text", "text", "text", "text", "text", "text", "timestamptz"))})
        AS o(e, t, k, y, h, p, c)
)"""  # noqa: S608
_SAVED_COLUMNS = """credit_balance = v.credit, debit_balance = v.debit,
        inflight_credit_balance = v.inflight_credit, inflight_debit_balance = v.inflight_debit,
        version = b.version + 1, updated_at = now()"""
_BALANCE_BINDS = _placeholders(_BALANCES_AT, ("text", "bigint", "bigint", "bigint", "bigint"))
_NOTIFY = f"CASE WHEN ${_NOTIFY_AT}::boolean THEN pg_notify('clearway_outbox', '') END AS notified"

WRITE_POSTINGS = f"""
WITH {_INSERT_TRANSACTIONS}, saved_balances AS (
    UPDATE balances b SET {_SAVED_COLUMNS}
    FROM unnest({_BALANCE_BINDS}) AS v(balance_id, credit, debit, inflight_credit, inflight_debit)
    WHERE b.balance_id = v.balance_id
), {_INSERT_EVENTS}
SELECT
    (SELECT json_agg(json_build_object(
        'monitor_id', m.monitor_id, 'balance_id', m.balance_id, 'field', m.field, 'operator', m.operator,
        'value_minor', m.value_minor, 'is_triggered', m.is_triggered))
     FROM balance_monitors m WHERE m.balance_id = ANY(${_BALANCES_AT}::text[])) AS monitors,
    {_NOTIFY}
"""  # noqa: S608

# The fast lane's write (`service/posting/fast_lane.py`): the same rows, in a statement that runs
# without an explicit transaction, so it commits by itself (one round trip for the whole batch). The
# batch read its balances without locks, so here every balance it posted on (moved or only read, as
# for a refusal) is locked in id order (as the locked path locks, so no two batches deadlock) and must
# still be at the version the batch read; if one moved meanwhile, or has a monitor (whose crossing
# the locked path writes with the batch), `ledger_require_unmoved` (migration 0007) fails the
# statement and nothing stays. It checks the monitors once the locks are held, in a snapshot of its own.
_READ_AT = _NOTIFY_AT + 1  # 2 parameters: the balances posted on, and the versions they were read at
WRITE_POSTINGS_AT_VERSIONS = f"""
WITH {_INSERT_TRANSACTIONS}, locked AS (
    SELECT balance_id, version FROM balances WHERE balance_id = ANY(${_READ_AT}::text[])
    ORDER BY balance_id FOR UPDATE
), saved_balances AS (
    UPDATE balances b SET {_SAVED_COLUMNS}
    FROM unnest({_BALANCE_BINDS}) AS v(balance_id, credit, debit, inflight_credit, inflight_debit)
    JOIN locked l ON l.balance_id = v.balance_id
    WHERE b.balance_id = v.balance_id
    RETURNING b.balance_id
), {_INSERT_EVENTS}
SELECT
    ledger_require_unmoved(
        (SELECT count(*) FROM locked l
         JOIN unnest(${_READ_AT}::text[], ${_READ_AT + 1}::bigint[]) AS r(balance_id, version)
           ON r.balance_id = l.balance_id AND r.version = l.version) = cardinality(${_READ_AT}::text[])
        AND (SELECT count(*) FROM saved_balances) = cardinality(${_BALANCES_AT}::text[]),
        ${_READ_AT}::text[]
    ) AS applied,
    {_NOTIFY}
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
        row = await self.connection.fetchrow(WRITE_POSTINGS, *_binds(records, lines, created_at, touched, outbox))
        assert row is not None
        return [Monitor(**document) for document in row["monitors"] or []]

    async def write_postings_at_versions(
        self,
        records: Sequence[TransactionRecord],
        lines: Sequence[tuple[EntryLine, datetime]],
        created_at: datetime,
        touched: Sequence[BalanceState],
        outbox: Sequence[tuple[Any, ...]],
        read_versions: dict[str, int],
    ) -> None:
        """The same rows, committed by this one statement (call it outside a transaction), only if
        every balance in `read_versions` (the batch's, touched or not) is still at that version and
        has no monitor; otherwise raises `asyncpg.SerializationError` and writes nothing."""
        if not (records or lines or touched or outbox):
            return
        binds = _binds(records, lines, created_at, touched, outbox)
        await self.connection.execute(
            WRITE_POSTINGS_AT_VERSIONS, *binds, list(read_versions), list(read_versions.values())
        )


def _binds(
    records: Sequence[TransactionRecord],
    lines: Sequence[tuple[EntryLine, datetime]],
    created_at: datetime,
    touched: Sequence[BalanceState],
    outbox: Sequence[tuple[Any, ...]],
) -> list[Any]:
    """The statements' parameters: a column array each, in the order the placeholders number them."""
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
    return [*transaction_columns, *entry_columns, *balance_columns, *outbox_columns, bool(outbox)]
