"""Authorization: incremental authorizations (an increment raises its original's hold; the original is
`raising` meanwhile).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_STATUSES_BEFORE = "('pending', 'approved', 'declined', 'reversing', 'reversed', 'clearing', 'cleared', 'expiring', 'expired')"
_STATUSES = (
    "('pending', 'approved', 'declined', 'reversing', 'reversed', 'clearing', 'cleared', 'expiring', 'expired', "
    "'raising')"
)


def upgrade() -> None:
    op.drop_constraint("ck_authorizations_status", "authorizations", type_="check")
    op.create_check_constraint("ck_authorizations_status", "authorizations", f"status IN {_STATUSES}")
    # Our id of the authorization an incremental one raises; null for an original authorization.
    op.add_column(
        "authorizations",
        sa.Column("incremental_of", sa.Text, sa.ForeignKey("authorizations.id"), nullable=True),
    )
    op.create_index(
        "ix_authorizations_incremental_of",
        "authorizations",
        ["incremental_of"],
        postgresql_where=sa.text("incremental_of IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_authorizations_incremental_of", table_name="authorizations")
    op.drop_column("authorizations", "incremental_of")
    op.drop_constraint("ck_authorizations_status", "authorizations", type_="check")
    op.create_check_constraint("ck_authorizations_status", "authorizations", f"status IN {_STATUSES_BEFORE}")
