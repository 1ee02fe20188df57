"""The SQL behind `python -m clearway.ledger.verify`: recompute the books from the journal.

Every query reads; none writes. The caller runs them inside one REPEATABLE READ, read-only
transaction so that balances, entries and holds are compared as of one snapshot even while
the ledger keeps posting (otherwise a batch committing between two queries would show up as
a false difference).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from clearway.platform.db import libpq_url

# Columns compared against the journal, each with the SQL aggregate that should equal it.
ENTRY_SUMS = {
    "credit_balance": "SUM(credit_minor) FILTER (WHERE bucket = 'applied')",
    "debit_balance": "SUM(debit_minor) FILTER (WHERE bucket = 'applied')",
    "inflight_credit_balance": "SUM(credit_minor) FILTER (WHERE bucket = 'inflight')",
    "inflight_debit_balance": "SUM(debit_minor) FILTER (WHERE bucket = 'inflight')",
}
BALANCE_DIFFERENCES_SQL = f"""
    WITH sums AS (
        SELECT balance_id, {", ".join(f"COALESCE({total}, 0)::numeric AS {column}" for column, total in ENTRY_SUMS.items())}
        FROM entries GROUP BY balance_id
    )
    SELECT b.balance_id, b.currency,
           {", ".join(f"b.{column} AS stored_{column}, COALESCE(s.{column}, 0) AS expected_{column}" for column in ENTRY_SUMS)},
           b.balance AS stored_balance, (b.credit_balance - b.debit_balance) AS expected_balance,
           b.inflight_balance AS stored_inflight_balance,
           (b.inflight_credit_balance - b.inflight_debit_balance) AS expected_inflight_balance
    FROM balances b LEFT JOIN sums s USING (balance_id)
    WHERE {" OR ".join(f"b.{column} <> COALESCE(s.{column}, 0)" for column in ENTRY_SUMS)}
       OR b.balance IS DISTINCT FROM b.credit_balance - b.debit_balance
       OR b.inflight_balance IS DISTINCT FROM b.inflight_credit_balance - b.inflight_debit_balance
    ORDER BY b.balance_id
    LIMIT $1
"""  # noqa: S608
# What each balance's open holds still keep inflight. A single-leg side holds the hold's
# remaining amount; a split side can only be committed or voided whole, so each leg holds
# leg * remaining / amount, which is the leg or nothing (numeric: no bigint overflow).
HOLD_DIFFERENCES_SQL = """
    WITH legs AS (
        SELECT h.transaction_id, 'debit' AS side, leg ->> 0 AS balance_id, (leg ->> 1)::numeric AS leg_minor,
               h.amount_minor, h.amount_minor - h.committed_minor - h.voided_minor AS remaining_minor
        FROM holds h CROSS JOIN LATERAL jsonb_array_elements(h.debits) AS leg
        UNION ALL
        SELECT h.transaction_id, 'credit', leg ->> 0, (leg ->> 1)::numeric,
               h.amount_minor, h.amount_minor - h.committed_minor - h.voided_minor
        FROM holds h CROSS JOIN LATERAL jsonb_array_elements(h.credits) AS leg
    ), held AS (
        SELECT balance_id,
               COALESCE(SUM(leg_minor * remaining_minor / amount_minor) FILTER (WHERE side = 'debit'), 0) AS debit,
               COALESCE(SUM(leg_minor * remaining_minor / amount_minor) FILTER (WHERE side = 'credit'), 0) AS credit
        FROM legs GROUP BY balance_id
    )
    SELECT b.balance_id, b.currency,
           b.inflight_debit_balance AS stored_debit, COALESCE(held.debit, 0) AS expected_debit,
           b.inflight_credit_balance AS stored_credit, COALESCE(held.credit, 0) AS expected_credit
    FROM balances b LEFT JOIN held USING (balance_id)
    WHERE b.inflight_debit_balance <> COALESCE(held.debit, 0) OR b.inflight_credit_balance <> COALESCE(held.credit, 0)
    ORDER BY b.balance_id
    LIMIT $1
"""
BUCKET_TOTALS_SQL = """
    SELECT currency, bucket, COALESCE(SUM(debit_minor), 0)::numeric AS debit_minor,
           COALESCE(SUM(credit_minor), 0)::numeric AS credit_minor, count(*) AS entry_count
    FROM entries GROUP BY currency, bucket ORDER BY currency, bucket
"""
# Each query names one kind of anomaly: a row that cannot be right whatever the balances say.
ANOMALY_SQL = {
    "unbalanced transaction": """
        SELECT transaction_id AS subject,
               format('%s bucket: debits %s, credits %s', bucket, SUM(debit_minor), SUM(credit_minor)) AS detail
        FROM entries GROUP BY transaction_id, currency, bucket
        HAVING SUM(debit_minor) <> SUM(credit_minor)
        ORDER BY transaction_id LIMIT $1
    """,
    "entry currency differs from its balance": """
        SELECT e.entry_id::text AS subject,
               format('entry in %s on balance %s held in %s', e.currency, e.balance_id, b.currency) AS detail
        FROM entries e JOIN balances b USING (balance_id)
        WHERE e.currency <> b.currency
        ORDER BY e.entry_id LIMIT $1
    """,
    "hold legs do not add up": """
        SELECT h.transaction_id AS subject,
               format('amount %s, debit legs %s, credit legs %s, committed %s, voided %s', h.amount_minor,
                      (SELECT SUM((leg ->> 1)::numeric) FROM jsonb_array_elements(h.debits) AS leg),
                      (SELECT SUM((leg ->> 1)::numeric) FROM jsonb_array_elements(h.credits) AS leg),
                      h.committed_minor, h.voided_minor) AS detail
        FROM holds h
        WHERE (SELECT SUM((leg ->> 1)::numeric) FROM jsonb_array_elements(h.debits) AS leg) <> h.amount_minor
           OR (SELECT SUM((leg ->> 1)::numeric) FROM jsonb_array_elements(h.credits) AS leg) <> h.amount_minor
           OR h.committed_minor + h.voided_minor > h.amount_minor
        ORDER BY h.transaction_id LIMIT $1
    """,
    "split hold partly settled": """
        SELECT h.transaction_id AS subject,
               format('amount %s, committed %s, voided %s', h.amount_minor, h.committed_minor, h.voided_minor)
                   AS detail
        FROM holds h
        WHERE (jsonb_array_length(h.debits) > 1 OR jsonb_array_length(h.credits) > 1)
          AND h.committed_minor + h.voided_minor NOT IN (0, h.amount_minor)
        ORDER BY h.transaction_id LIMIT $1
    """,
    "hold without an INFLIGHT transaction": """
        SELECT h.transaction_id AS subject, format('transaction status %s', coalesce(t.status, 'missing')) AS detail
        FROM holds h LEFT JOIN transactions t USING (transaction_id)
        WHERE t.status IS DISTINCT FROM 'INFLIGHT'
        ORDER BY h.transaction_id LIMIT $1
    """,
    "INFLIGHT transaction without a hold": """
        SELECT t.transaction_id AS subject, format('amount %s %s', t.amount_minor, t.currency) AS detail
        FROM transactions t LEFT JOIN holds h USING (transaction_id)
        WHERE t.status = 'INFLIGHT' AND h.transaction_id IS NULL
        ORDER BY t.transaction_id LIMIT $1
    """,
}
COUNTS_SQL = """
    SELECT (SELECT count(*) FROM balances) AS balances, (SELECT count(*) FROM entries) AS entries,
           (SELECT count(*) FROM holds) AS holds, (SELECT count(*) FROM transactions) AS transactions
"""


@dataclass(frozen=True)
class ColumnDifference:
    """A balance column that disagrees with what `basis` says it must be."""

    balance_id: str
    currency: str
    column: str
    basis: str
    stored_minor: int
    expected_minor: int


@dataclass(frozen=True)
class BucketTotal:
    currency: str
    bucket: str
    debit_minor: int
    credit_minor: int
    entry_count: int

    @property
    def balanced(self) -> bool:
        return self.debit_minor == self.credit_minor


@dataclass(frozen=True)
class Anomaly:
    kind: str
    subject: str
    detail: str


@dataclass(frozen=True)
class Counts:
    balances: int
    entries: int
    holds: int
    transactions: int


async def connect(database_url: str) -> asyncpg.Connection:
    """One plain connection (either URL form): verification needs neither a pool nor codecs."""
    return await asyncpg.connect(libpq_url(database_url))


def _minor(value: Decimal | int | None) -> int:
    """Sums come back as numeric so they cannot overflow; callers compare before converting."""
    return int(value or 0)


class VerificationRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def counts(self) -> Counts:
        row = await self.connection.fetchrow(COUNTS_SQL)
        return Counts(row["balances"], row["entries"], row["holds"], row["transactions"])

    async def bucket_totals(self) -> list[BucketTotal]:
        rows = await self.connection.fetch(BUCKET_TOTALS_SQL)
        return [
            BucketTotal(
                row["currency"],
                row["bucket"],
                _minor(row["debit_minor"]),
                _minor(row["credit_minor"]),
                row["entry_count"],
            )
            for row in rows
        ]

    async def entry_differences(self, limit: int) -> list[ColumnDifference]:
        """Balances whose columns are not the sums of their entries (or not credit - debit)."""
        differences: list[ColumnDifference] = []
        for row in await self.connection.fetch(BALANCE_DIFFERENCES_SQL, limit):
            for column in ENTRY_SUMS:
                differences += _difference(row, column, "entries", row[f"stored_{column}"], row[f"expected_{column}"])
            differences += _difference(row, "balance", "credit - debit", row["stored_balance"], row["expected_balance"])
            differences += _difference(
                row,
                "inflight_balance",
                "inflight credit - inflight debit",
                row["stored_inflight_balance"],
                row["expected_inflight_balance"],
            )
        return differences

    async def hold_differences(self, limit: int) -> list[ColumnDifference]:
        """Balances whose inflight columns are not what their open holds still keep."""
        differences: list[ColumnDifference] = []
        for row in await self.connection.fetch(HOLD_DIFFERENCES_SQL, limit):
            differences += _difference(
                row, "inflight_debit_balance", "open holds", row["stored_debit"], row["expected_debit"]
            )
            differences += _difference(
                row, "inflight_credit_balance", "open holds", row["stored_credit"], row["expected_credit"]
            )
        return differences

    async def anomalies(self, limit: int) -> list[Anomaly]:
        found: list[Anomaly] = []
        for kind, sql in ANOMALY_SQL.items():
            found += [Anomaly(kind, row["subject"], row["detail"]) for row in await self.connection.fetch(sql, limit)]
        return found


def _difference(
    row: asyncpg.Record, column: str, basis: str, stored: Decimal | int, expected: Decimal | int
) -> list[ColumnDifference]:
    if stored == expected:
        return []
    return [
        ColumnDifference(
            balance_id=row["balance_id"],
            currency=row["currency"],
            column=column,
            basis=basis,
            stored_minor=_minor(stored),
            expected_minor=_minor(expected),
        )
    ]
