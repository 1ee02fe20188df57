"""Single-purpose routes: a link for a virtual account or a paybill number names the account its
unexplained inbound money belongs to (issue 9's third matching rule).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("links", sa.Column("route_account_path", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("links", "route_account_path")
