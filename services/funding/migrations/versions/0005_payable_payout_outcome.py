"""Payables learn their payout outcome from payout's events (issue 8, section 5).

Revision ID: 0005
Revises: 0004

A paid payable is paid out by payout, which reports the withdrawal's end as `payout.succeeded`,
`payout.failed` or `payout.reversed`. Funding keeps the outcome beside the payable's own status
(which stays `paid`): NULL until payout reports, then `paid_out`, `failed` or `reversed`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PAYOUT_STATUSES = ("paid_out", "failed", "reversed")
CHECKS = {
    "ck_payables_payout_status": (
        f"payout_status IS NULL OR payout_status IN ({', '.join(repr(status) for status in PAYOUT_STATUSES)})"
    ),
    # An outcome names its withdrawal and when it happened, and only a paid payable is paid out.
    "ck_payables_payout_recorded": (
        "(payout_status IS NULL) = (payout_withdrawal_id IS NULL)"
        " AND (payout_status IS NULL) = (payout_updated_at IS NULL)"
        " AND (payout_status IS NULL OR status = 'paid')"
    ),
    "ck_payables_payout_failure_code": "payout_failure_code IS NULL OR payout_status = 'failed'",
    "ck_payables_payout_receipt": "payout_receipt IS NULL OR payout_status IN ('paid_out', 'reversed')",
}


def upgrade() -> None:
    op.add_column("payables", sa.Column("payout_status", sa.Text, nullable=True))
    op.add_column("payables", sa.Column("payout_withdrawal_id", sa.Text, nullable=True))
    op.add_column("payables", sa.Column("payout_receipt", sa.Text, nullable=True))
    op.add_column("payables", sa.Column("payout_failure_code", sa.Text, nullable=True))
    op.add_column("payables", sa.Column("payout_updated_at", sa.DateTime(timezone=True), nullable=True))
    for name, condition in CHECKS.items():
        op.create_check_constraint(name, "payables", condition)


def downgrade() -> None:
    for name in reversed(CHECKS):
        op.drop_constraint(name, "payables", type_="check")
    for column in ("payout_updated_at", "payout_failure_code", "payout_receipt", "payout_withdrawal_id", "payout_status"):
        op.drop_column("payables", column)
