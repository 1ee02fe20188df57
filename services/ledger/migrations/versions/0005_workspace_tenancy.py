"""Ledgers and identities belong to a workspace, or (NULL) to the platform (issue 14 §3).

Revision ID: 0005
Revises: 0004

Existing rows stay the platform's (NULL), which is what every key saw before. Balances, entries,
schemas, holds and monitors belong to their ledger, so they need no column of their own.

A ledger's `ik` becomes unique per owner, not per service: otherwise one workspace could take (or
probe for) the iks another uses. COALESCE makes the platform one owner ('' is no workspace id).
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ledgers ADD COLUMN workspace_id TEXT CHECK (workspace_id <> '')")
    op.execute("ALTER TABLE identities ADD COLUMN workspace_id TEXT CHECK (workspace_id <> '')")
    op.execute("CREATE INDEX ix_ledgers_workspace ON ledgers (workspace_id, created_at, ledger_id)")
    op.execute("CREATE INDEX ix_identities_workspace ON identities (workspace_id, created_at, identity_id)")
    op.execute("DROP INDEX IF EXISTS ux_ledgers_ik")
    op.execute("CREATE UNIQUE INDEX ux_ledgers_ik ON ledgers ((COALESCE(workspace_id, '')), ik) WHERE ik IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ux_ledgers_ik")
    op.execute("CREATE UNIQUE INDEX ux_ledgers_ik ON ledgers (ik) WHERE ik IS NOT NULL")
    op.execute("DROP INDEX IF EXISTS ix_identities_workspace")
    op.execute("DROP INDEX IF EXISTS ix_ledgers_workspace")
    op.execute("ALTER TABLE identities DROP COLUMN IF EXISTS workspace_id")
    op.execute("ALTER TABLE ledgers DROP COLUMN IF EXISTS workspace_id")
