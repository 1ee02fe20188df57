"""Timestamps that cannot run backwards, and idempotency claims that name their owner lease.

Revision ID: 0004
Revises: 0003

Issue 12, defect 2: a deposit was stamped updated 3.5 ms before it was created (two processes,
two clocks). Rows already stored that way are repaired (updated_at := created_at), then a CHECK
makes the database refuse such a row on write; the code writes `GREATEST(created_at, now)`.
"""

from alembic import op

from clearway.platform.migrations import add_idempotency_owner_column, drop_idempotency_owner_column, drop_idempotency_owner_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("deposits", "workspaces", "payables", "fundings", "topups")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET updated_at = created_at WHERE updated_at < created_at")
        op.create_check_constraint(f"ck_{table}_updated_not_before_created", table, "updated_at >= created_at")
    add_idempotency_owner_column(op)


def downgrade() -> None:
    drop_idempotency_owner_column(op)
    for table in TABLES:
        op.drop_constraint(f"ck_{table}_updated_not_before_created", table, type_="check")
