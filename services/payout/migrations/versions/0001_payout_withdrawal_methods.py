"""Payout: platform tables and withdrawal methods (where a user's money may be paid out to).

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
        "withdrawal_methods",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("method_type", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("account_name", sa.Text, nullable=True),
        sa.Column("account_number", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("method_type IN ('mobile_money', 'bank_account')", name="ck_withdrawal_methods_type"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_withdrawal_methods_currency"),
    )
    op.create_index("ix_withdrawal_methods_user", "withdrawal_methods", ["user_id", "id"])
    # Seed 001: a user has at most one primary method; promoting one demotes the others.
    op.create_index(
        "ux_withdrawal_methods_primary",
        "withdrawal_methods",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )


def downgrade() -> None:
    op.drop_table("withdrawal_methods")
    drop_platform_tables(op)
