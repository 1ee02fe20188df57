"""Authorization: the recovery pass's scans of repayments and billing job runs a crash left `pending`.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_repayments_pending", "repayments", ["created_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_card_job_runs_pending", "card_job_runs", ["created_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_index("ix_card_job_runs_pending", table_name="card_job_runs")
    op.drop_index("ix_repayments_pending", table_name="repayments")
