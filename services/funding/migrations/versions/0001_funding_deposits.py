"""Funding: platform tables and deposits (settled inbound transfers).

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
        "deposits",
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
        sa.Column("linked_funding_id", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # A processor's retry re-sends the same transfer_id (often under a new event id): one deposit.
        sa.UniqueConstraint("processor", "transfer_id", name="uq_deposits_processor_transfer"),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_deposits_direction"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_deposits_amount_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_deposits_currency"),
    )
    # Link-deposit looks for deposits not yet linked, newest id last (ids sort by creation time).
    op.create_index(
        "ix_deposits_unlinked", "deposits", ["id"], postgresql_where=sa.text("linked_funding_id IS NULL")
    )


def downgrade() -> None:
    op.drop_table("deposits")
    drop_platform_tables(op)
