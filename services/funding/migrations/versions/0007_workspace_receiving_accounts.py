"""Deposits belong to the workspace that owns the account they settled on (issue 14 §3).

Revision ID: 0007
Revises: 0006

A workspace names its receiving accounts (`PATCH /workspace {receiving_account_ids}`); each account
has one owner (the primary key). A workspace key sees and links only deposits on its own accounts;
a platform key (no workspace) sees all of them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_receiving_accounts",
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_workspace_receiving_accounts_workspace", "workspace_receiving_accounts", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("workspace_receiving_accounts")
