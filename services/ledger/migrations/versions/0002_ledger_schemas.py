"""Ledger schemas (FRAGMENT style) and the entries posted through them.

Revision ID: 0002
Revises: 0001

Accounts are not a table of their own: a schema account is a `balances` row with
`account_path` set (created on first posting), so one set of invariants covers both APIs.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DDL = """
-- Versions are immutable: a change is a new (key, version) row; posting reads the latest.
CREATE TABLE ledger_schemas (
    ledger_id   TEXT NOT NULL REFERENCES ledgers (ledger_id),
    key         TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    document    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, key, version)
);

-- One row per posted entry. The money lives in transactions/entries (transaction_id); this row
-- keeps what the entry was (type, parameters, schema version, lines by account path).
CREATE TABLE ledger_entries (
    entry_id                TEXT PRIMARY KEY,
    ledger_id               TEXT NOT NULL REFERENCES ledgers (ledger_id),
    ik                      TEXT NOT NULL,
    entry_type              TEXT NOT NULL,
    schema_key              TEXT NOT NULL,
    schema_version          INTEGER NOT NULL,
    currency                TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor            BIGINT NOT NULL CHECK (amount_minor > 0),
    parameters              JSONB NOT NULL DEFAULT '{}'::jsonb,
    lines                   JSONB NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    request_hash            TEXT NOT NULL,
    transaction_id          TEXT NOT NULL REFERENCES transactions (transaction_id),
    reversed_by             TEXT REFERENCES transactions (transaction_id),
    external_transaction_id TEXT,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (ledger_id, ik)
);
-- An external (bank) transaction is reconciled by exactly one entry.
CREATE UNIQUE INDEX ux_ledger_entries_external ON ledger_entries (ledger_id, external_transaction_id)
    WHERE external_transaction_id IS NOT NULL;
CREATE INDEX ix_ledger_entries_transaction ON ledger_entries (transaction_id);

-- Listing a ledger's accounts (balances with a path) by id, the cursor order.
CREATE INDEX ix_balances_ledger_accounts ON balances (ledger_id, balance_id) WHERE account_path IS NOT NULL
"""


def upgrade() -> None:
    for statement in DDL.split(";\n"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_balances_ledger_accounts")
    for table in ("ledger_entries", "ledger_schemas"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
