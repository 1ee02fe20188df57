"""The records this service's consumers dead-lettered, kept for operators to list and count
(`clearway.platform.dead_letters`, `GET /admin/dead-letters`).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from clearway.platform.migrations import create_dead_letters_table, drop_dead_letters_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dead_letters_table(op)


def downgrade() -> None:
    drop_dead_letters_table(op)
