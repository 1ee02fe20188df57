"""A funding remembers the Idempotency-Key of the request that created it, so a retry after a crash
between the funding's commit and its stored answer finds the funding instead of being refused
(its payables are already in it).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fundings", sa.Column("request_key", sa.Text(), nullable=True))
    op.create_index(
        "ux_fundings_request_key",
        "fundings",
        ["workspace_id", "request_key"],
        unique=True,
        postgresql_where=sa.text("request_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ux_fundings_request_key", table_name="fundings")
    op.drop_column("fundings", "request_key")
