"""Authorization: reversals that name an incremental authorization (what they released of it), and
refused repayments (a transfer quoting a card account's reference in another currency).

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
    # On an incremental authorization: what reversals naming it released from its original's hold,
    # so a second full reversal of the same increment releases nothing. Always 0 on an original.
    op.add_column(
        "authorizations",
        sa.Column("reversed_minor", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    )
    op.create_check_constraint(
        "ck_authorizations_reversed_minor", "authorizations", "reversed_minor >= 0 AND reversed_minor <= amount_minor"
    )
    # A refused repayment is recorded (never posted) so operations can return the money.
    op.drop_constraint("ck_repayments_status", "repayments", type_="check")
    op.create_check_constraint("ck_repayments_status", "repayments", "status IN ('pending', 'posted', 'refused')")
    op.add_column("repayments", sa.Column("reason", sa.Text, nullable=True))
    op.create_check_constraint("ck_repayments_reason", "repayments", "(status = 'refused') = (reason IS NOT NULL)")
    op.create_index("ix_repayments_account", "repayments", ["card_account_id", "id"])
    # The ledger transaction that split a posted repayment (what `card.repayment.applied` names).
    op.add_column("repayments", sa.Column("ledger_transaction_id", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("repayments", "ledger_transaction_id")
    op.drop_index("ix_repayments_account", table_name="repayments")
    op.drop_constraint("ck_repayments_reason", "repayments", type_="check")
    op.drop_column("repayments", "reason")
    op.execute("DELETE FROM repayments WHERE status = 'refused'")
    op.drop_constraint("ck_repayments_status", "repayments", type_="check")
    op.create_check_constraint("ck_repayments_status", "repayments", "status IN ('pending', 'posted')")
    op.drop_constraint("ck_authorizations_reversed_minor", "authorizations", type_="check")
    op.drop_column("authorizations", "reversed_minor")
