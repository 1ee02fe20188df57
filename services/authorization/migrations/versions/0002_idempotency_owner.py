"""Idempotency claims name their process's owner lease, so a crashed request's key frees at once.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from clearway.platform.migrations import add_idempotency_owner_column, drop_idempotency_owner_column

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_idempotency_owner_column(op)


def downgrade() -> None:
    drop_idempotency_owner_column(op)
