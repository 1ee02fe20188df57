"""Status queries no longer stop after the maximum (they slow down instead); a mobile-money payout that an
earlier version left `processing` with its queries used up, and so with no next query, is asked about again
at once, so that its hold gets its path to a commit or a void.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only payouts that were queried and then left unscheduled; bank batches (batch_id) have no queries.
    op.execute(
        "UPDATE withdrawals SET next_status_check_at = now() "
        "WHERE status = 'processing' AND next_status_check_at IS NULL AND status_checks > 0 AND batch_id IS NULL"
    )


def downgrade() -> None:
    pass  # nothing to undo: the rows are ordinary scheduled payouts now
