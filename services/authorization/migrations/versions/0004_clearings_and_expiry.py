"""Authorization: clearings (seed 002 steps 7-8) and the statuses clearing and expiry give an authorization.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_STATUSES_BEFORE = "('pending', 'approved', 'declined', 'reversing', 'reversed')"
_STATUSES = "('pending', 'approved', 'declined', 'reversing', 'reversed', 'clearing', 'cleared', 'expiring', 'expired')"


def upgrade() -> None:
    op.drop_constraint("ck_authorizations_status", "authorizations", type_="check")
    op.create_check_constraint("ck_authorizations_status", "authorizations", f"status IN {_STATUSES}")
    op.drop_index("ix_authorizations_unfinished", table_name="authorizations")
    op.create_index(
        "ix_authorizations_unfinished",
        "authorizations",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('pending', 'reversing', 'expiring')"),
    )
    op.add_column("authorizations", sa.Column("expiry_business_date", sa.Date, nullable=True))
    # The expiry job's scan: approved authorizations by when they were requested.
    op.create_index(
        "ix_authorizations_approved_requested",
        "authorizations",
        ["requested_at"],
        postgresql_where=sa.text("status = 'approved'"),
    )

    op.create_table(
        "clearings",
        sa.Column("id", sa.Text, primary_key=True),
        # The processor's id: one effect each, whichever door it came through.
        sa.Column("clearing_id", sa.Text, nullable=False, unique=True),
        sa.Column("authorization_id", sa.Text, nullable=True),
        sa.Column("authorization_ref", sa.Text, sa.ForeignKey("authorizations.id"), nullable=True),
        sa.Column("card_id", sa.Text, nullable=False),
        sa.Column("card_account_id", sa.Text, sa.ForeignKey("card_accounts.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("merchant_name", sa.Text, nullable=False),
        sa.Column("merchant_category_code", sa.Text, nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("hold_transaction_id", sa.Text, nullable=True),
        sa.Column("held_minor", sa.BigInteger, nullable=False),
        sa.Column("authorized_fee_minor", sa.BigInteger, nullable=True),
        sa.Column("overdraft_limit_minor", sa.BigInteger, nullable=False),
        sa.Column("committed_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("difference_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fee_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'posted', 'rejected')", name="ck_clearings_status"),
        sa.CheckConstraint("amount_minor > 0", name="ck_clearings_amount"),
        sa.CheckConstraint("forced = (authorization_ref IS NULL)", name="ck_clearings_forced"),
    )
    op.create_index("ix_clearings_card", "clearings", ["card_id", "id"])
    op.create_index(
        "ix_clearings_pending", "clearings", ["updated_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_table("clearings")
    op.drop_index("ix_authorizations_approved_requested", table_name="authorizations")
    op.drop_column("authorizations", "expiry_business_date")
    op.drop_index("ix_authorizations_unfinished", table_name="authorizations")
    op.create_index(
        "ix_authorizations_unfinished",
        "authorizations",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('pending', 'reversing')"),
    )
    op.drop_constraint("ck_authorizations_status", "authorizations", type_="check")
    op.create_check_constraint("ck_authorizations_status", "authorizations", f"status IN {_STATUSES_BEFORE}")
