"""Ledgers carry an optional idempotency key (`ik`), unique per ledger service, as FRAGMENT's do.

Revision ID: 0004
Revises: 0003

A create with a known ik answers the existing ledger; the partial unique index is what makes two
concurrent creates with one ik end in one ledger (`INSERT ... ON CONFLICT DO NOTHING`).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE ledgers ADD COLUMN ik TEXT CHECK (ik IS NULL OR char_length(ik) BETWEEN 1 AND 255)"
    )
    op.execute("CREATE UNIQUE INDEX ux_ledgers_ik ON ledgers (ik) WHERE ik IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ux_ledgers_ik")
    op.execute("ALTER TABLE ledgers DROP COLUMN IF EXISTS ik")
