"""Reconciliation (issue 9): links (sources of external transactions tied to a ledger's cash
account), external transactions as seed 003 sees them, expectations, matches, statements, breaks.

Existing external transactions (from `transfer.created`) keep their rows: `external_id` is their
transfer id, `reference` their payment reference, `booked_at` their settlement time; they stay
unlinked until a link names their account.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    ]


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("ledger_id", sa.Text, nullable=False),
        sa.Column("cash_account_path", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("external_account_id", sa.Text, nullable=True, unique=True),
        sa.Column("auto_match", sa.Boolean, nullable=False),
        sa.Column("clearing_max_age_s", sa.Integer, nullable=False),
        sa.Column("date_window_days", sa.Integer, nullable=False, server_default="3"),
        sa.Column("created_by", sa.Text, nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "kind IN ('bank_statement', 'mobile_money', 'card_network', 'processor')", name="ck_links_kind"
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_links_currency"),
    )
    op.execute("ALTER TABLE external_transactions DROP CONSTRAINT ck_external_transactions_status")
    op.execute("UPDATE external_transactions SET status = 'unreconciled' WHERE status = 'unmatched'")
    op.execute("UPDATE external_transactions SET status = 'reconciled' WHERE status = 'matched'")
    op.alter_column("external_transactions", "status", server_default="unreconciled")
    op.create_check_constraint(
        "ck_external_transactions_status", "external_transactions", "status IN ('unreconciled', 'reconciled')"
    )
    op.add_column("external_transactions", sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=True))
    op.add_column("external_transactions", sa.Column("external_id", sa.Text, nullable=True))
    op.alter_column("external_transactions", "payment_reference", new_column_name="reference")
    op.alter_column("external_transactions", "settled_at", new_column_name="booked_at")
    op.add_column("external_transactions", sa.Column("description", sa.Text, nullable=True))
    op.add_column("external_transactions", sa.Column("source", sa.Text, nullable=False, server_default="event"))
    op.add_column("external_transactions", sa.Column("match_id", sa.Text, nullable=True))
    op.add_column("external_transactions", sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE external_transactions SET external_id = transfer_id")
    op.alter_column("external_transactions", "external_id", nullable=False)
    op.drop_index("ix_external_transactions_unmatched", table_name="external_transactions")
    # Idempotent by (link, external id): a statement re-imported, or overlapping, adds only what is new.
    op.create_index(
        "ux_external_transactions_link_external_id",
        "external_transactions",
        ["link_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("link_id IS NOT NULL"),
    )
    op.create_index(
        "ix_external_transactions_unreconciled",
        "external_transactions",
        ["link_id", "currency", "amount_minor"],
        postgresql_where=sa.text("status = 'unreconciled'"),
    )
    op.create_table(
        "expectations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=True),
        sa.Column("expected_on", sa.Date, nullable=True),
        sa.Column("account_path", sa.Text, nullable=True),
        sa.Column("items", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("match_id", sa.Text, nullable=True),
        sa.Column("initiation_ik", sa.Text, nullable=True),
        sa.Column("initiation_status", sa.Text, nullable=False, server_default="none"),
        *_timestamps(),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_expectations_direction"),
        sa.CheckConstraint("amount_minor > 0", name="ck_expectations_amount"),
        sa.CheckConstraint("status IN ('open', 'matched', 'cancelled')", name="ck_expectations_status"),
        sa.CheckConstraint(
            "initiation_status IN ('none', 'pending', 'posted', 'reversed')", name="ck_expectations_initiation"
        ),
        # One expectation per upstream fact (a funding, a withdrawal): a redelivered event adds nothing.
        sa.UniqueConstraint("source", "source_id", name="uq_expectations_source"),
    )
    op.create_index(
        "ix_expectations_open", "expectations", ["link_id", "currency", "amount_minor"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=False),
        sa.Column("strategy", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("external_transaction_ids", ARRAY(sa.Text), nullable=False),
        sa.Column("expectation_ids", ARRAY(sa.Text), nullable=False),
        sa.Column("entry_iks", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "strategy IN ('one_to_one', 'many_to_one', 'one_to_many', 'bulk_split')", name="ck_matches_strategy"
        ),
        sa.CheckConstraint("status IN ('matched', 'posted', 'unmatched', 'failed')", name="ck_matches_status"),
    )
    op.create_index("ix_matches_unposted", "matches", ["created_at"], postgresql_where=sa.text("status = 'matched'"))
    op.create_table(
        "statements",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("statement_id", sa.Text, nullable=True),
        sa.Column("opening_balance_minor", sa.BigInteger, nullable=True),
        sa.Column("closing_balance_minor", sa.BigInteger, nullable=True),
        sa.Column("closing_on", sa.Date, nullable=True),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("skipped_duplicates", sa.Integer, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_statements_link", "statements", ["link_id", "closing_on"])
    op.create_table(
        "breaks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("link_id", sa.Text, nullable=True),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Text, nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=True),
    )
    # One open break per kind and subject: a check that finds it again does not add another.
    op.create_index(
        "ux_breaks_open", "breaks", ["kind", "subject"], unique=True, postgresql_where=sa.text("resolved_at IS NULL")
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "id"])


def downgrade() -> None:
    for table in ("audit_log", "breaks", "statements", "matches", "expectations"):
        op.drop_table(table)
    op.drop_index("ix_external_transactions_unreconciled", table_name="external_transactions")
    op.drop_index("ux_external_transactions_link_external_id", table_name="external_transactions")
    for column in ("reconciled_at", "match_id", "source", "description", "external_id", "link_id"):
        op.drop_column("external_transactions", column)
    op.alter_column("external_transactions", "reference", new_column_name="payment_reference")
    op.alter_column("external_transactions", "booked_at", new_column_name="settled_at")
    op.drop_table("links")
