"""Authorization: platform tables and card accounts.

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
    # The money lives in the ledger (the card account's balances); this row is the workflow side:
    # whose account it is, its limit and whether it may spend.
    op.create_table(
        "card_accounts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("credit_limit_minor", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("ledger_id", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('active', 'frozen', 'closed')", name="ck_card_accounts_status"),
        sa.CheckConstraint("credit_limit_minor >= 0", name="ck_card_accounts_credit_limit_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_card_accounts_currency"),
    )
    op.create_index("ix_card_accounts_customer", "card_accounts", ["customer_id"])


def downgrade() -> None:
    op.drop_table("card_accounts")
    drop_platform_tables(op)
