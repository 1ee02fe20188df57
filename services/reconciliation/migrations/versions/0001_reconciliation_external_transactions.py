"""Reconciliation: platform tables and external transactions (what banks and providers report).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from clearway.platform.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table(
        "external_transactions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("processor", sa.Text, nullable=False),
        sa.Column("transfer_id", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("payment_reference", sa.Text, nullable=True),
        sa.Column("counterparty_name", sa.Text, nullable=True),
        sa.Column("counterparty_account", sa.Text, nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="unmatched"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # A processor's retry re-sends the same transfer_id (often under a new event id): one row.
        sa.UniqueConstraint("processor", "transfer_id", name="uq_external_transactions_processor_transfer"),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_external_transactions_direction"),
        sa.CheckConstraint("status IN ('unmatched', 'matched')", name="ck_external_transactions_status"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_external_transactions_amount_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_external_transactions_currency"),
    )
    # Matching scans what is still unmatched on one account.
    op.create_index(
        "ix_external_transactions_unmatched",
        "external_transactions",
        ["account_id", "currency", "id"],
        postgresql_where=sa.text("status = 'unmatched'"),
    )


def downgrade() -> None:
    op.drop_table("external_transactions")
    drop_platform_tables(op)
