"""Ledger core: ledgers, identities, balances, transactions, entries, holds, monitors.

Revision ID: 0001
Revises:
"""

from alembic import op

from clearway.platform.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENERAL_LEDGER_ID = "general_ledger_id"

DDL = """
CREATE TABLE ledgers (
    ledger_id   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    meta_data   JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE identities (
    identity_id   TEXT PRIMARY KEY,
    identity_type TEXT,
    attributes    JSONB NOT NULL DEFAULT '{}'::jsonb,
    meta_data     JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE balances (
    balance_id              TEXT PRIMARY KEY,
    ledger_id               TEXT NOT NULL REFERENCES ledgers (ledger_id),
    identity_id             TEXT REFERENCES identities (identity_id),
    indicator               TEXT,
    currency                TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    precision               BIGINT NOT NULL CHECK (precision > 0),
    credit_balance          BIGINT NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
    debit_balance           BIGINT NOT NULL DEFAULT 0 CHECK (debit_balance >= 0),
    inflight_credit_balance BIGINT NOT NULL DEFAULT 0 CHECK (inflight_credit_balance >= 0),
    inflight_debit_balance  BIGINT NOT NULL DEFAULT 0 CHECK (inflight_debit_balance >= 0),
    balance                 BIGINT GENERATED ALWAYS AS (credit_balance - debit_balance) STORED,
    inflight_balance        BIGINT GENERATED ALWAYS AS (inflight_credit_balance - inflight_debit_balance) STORED,
    version                 BIGINT NOT NULL DEFAULT 0,
    meta_data               JSONB NOT NULL DEFAULT '{}'::jsonb,
    account_path            TEXT,
    account_type            TEXT CHECK (account_type IN ('asset','liability','income','expense','equity')),
    is_linked               BOOLEAN NOT NULL DEFAULT false,
    is_clearing             BOOLEAN NOT NULL DEFAULT false,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_balances_indicator ON balances (indicator, currency) WHERE indicator IS NOT NULL;
CREATE UNIQUE INDEX ux_balances_account ON balances (ledger_id, account_path, currency) WHERE account_path IS NOT NULL;
CREATE INDEX ix_balances_ledger ON balances (ledger_id, balance_id);
CREATE INDEX ix_balances_identity ON balances (identity_id);

-- One immutable row per state: a hold's commit, void or refund is a new row whose
-- parent_transaction names the row it acts on.
CREATE TABLE transactions (
    transaction_id        TEXT PRIMARY KEY,
    parent_transaction    TEXT,
    reference             TEXT NOT NULL,
    request_hash          TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('QUEUED','APPLIED','INFLIGHT','VOID','REJECTED','SCHEDULED')),
    currency              TEXT NOT NULL,
    amount_minor          BIGINT NOT NULL CHECK (amount_minor > 0),
    precision             BIGINT NOT NULL,
    source                TEXT,
    destination           TEXT,
    sources               JSONB,
    destinations          JSONB,
    allow_overdraft       BOOLEAN NOT NULL DEFAULT false,
    overdraft_limit_minor BIGINT,
    inflight              BOOLEAN NOT NULL DEFAULT false,
    inflight_expiry_date  TIMESTAMPTZ,
    scheduled_for         TIMESTAMPTZ,
    effective_date        TIMESTAMPTZ NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    meta_data             JSONB NOT NULL DEFAULT '{}'::jsonb,
    rejection_reason      TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_transactions_reference ON transactions (reference);
CREATE INDEX ix_transactions_parent ON transactions (parent_transaction) WHERE parent_transaction IS NOT NULL;
CREATE INDEX ix_transactions_source ON transactions (source, created_at);
CREATE INDEX ix_transactions_destination ON transactions (destination, created_at);
CREATE INDEX ix_transactions_created ON transactions (created_at, transaction_id);
CREATE INDEX ix_transactions_scheduled ON transactions (scheduled_for) WHERE status = 'SCHEDULED';

-- Open amount of every INFLIGHT transaction; the only mutable money-state besides balances.
CREATE TABLE holds (
    transaction_id   TEXT PRIMARY KEY REFERENCES transactions (transaction_id),
    currency         TEXT NOT NULL,
    debits           JSONB NOT NULL,
    credits          JSONB NOT NULL,
    amount_minor     BIGINT NOT NULL CHECK (amount_minor > 0),
    committed_minor  BIGINT NOT NULL DEFAULT 0 CHECK (committed_minor >= 0),
    voided_minor     BIGINT NOT NULL DEFAULT 0 CHECK (voided_minor >= 0),
    expires_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (committed_minor + voided_minor <= amount_minor)
);
CREATE INDEX ix_holds_open_expiry ON holds (expires_at)
    WHERE committed_minor + voided_minor < amount_minor AND expires_at IS NOT NULL;

-- The journal. bucket 'applied' feeds debit/credit_balance, 'inflight' the inflight columns,
-- a hold's release is a negative inflight line.
CREATE TABLE entries (
    entry_id       BIGSERIAL PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    balance_id     TEXT NOT NULL REFERENCES balances (balance_id),
    currency       TEXT NOT NULL,
    bucket         TEXT NOT NULL CHECK (bucket IN ('applied','inflight')),
    debit_minor    BIGINT NOT NULL,
    credit_minor   BIGINT NOT NULL,
    effective_at   TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (bucket = 'inflight' OR (debit_minor >= 0 AND credit_minor >= 0))
);
CREATE INDEX ix_entries_balance ON entries (balance_id, effective_at);
CREATE INDEX ix_entries_transaction ON entries (transaction_id);

CREATE TABLE balance_monitors (
    monitor_id    TEXT PRIMARY KEY,
    balance_id    TEXT NOT NULL REFERENCES balances (balance_id),
    field         TEXT NOT NULL,
    operator      TEXT NOT NULL,
    value_minor   BIGINT NOT NULL,
    precision     BIGINT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    is_triggered  BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ix_balance_monitors_balance ON balance_monitors (balance_id);
"""


def upgrade() -> None:
    create_platform_tables(op)
    for statement in DDL.split(";\n"):
        if statement.strip():
            op.execute(statement)
    op.execute(
        f"INSERT INTO ledgers (ledger_id, name) VALUES ('{GENERAL_LEDGER_ID}', 'General Ledger') "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    for table in ("balance_monitors", "entries", "holds", "transactions", "balances", "identities", "ledgers"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    drop_platform_tables(op)
