"""Links reconciliation asked for before funding recorded the deposit (`transfer.reconciled`).

Revision ID: 0006
Revises: 0005

`transfer.created` and `transfer.reconciled` are different topics, so funding can learn that
reconciliation matched a transfer to an invoice before it has recorded the transfer as a deposit.
The link waits here, one row per (transfer, funding), until the recovery loop finds the deposit.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_deposit_links",
        sa.Column("transfer_id", sa.Text, nullable=False),
        sa.Column("funding_id", sa.Text, nullable=False),
        sa.Column("match_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # Reconciliation may name the same link again (a redelivery, a re-match): one row.
        sa.PrimaryKeyConstraint("transfer_id", "funding_id", name="pk_pending_deposit_links"),
    )
    # Deposits are looked up by transfer id alone: link-deposit's transfer, a pending link's deposit.
    op.create_index("ix_deposits_transfer_id", "deposits", ["transfer_id"])


def downgrade() -> None:
    op.drop_index("ix_deposits_transfer_id", table_name="deposits")
    op.drop_table("pending_deposit_links")
