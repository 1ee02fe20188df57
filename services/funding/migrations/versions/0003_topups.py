"""Funding: wallet top-ups by mobile money (C2B STK push payment intents).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TOPUP_STATUSES = ("pending", "succeeded", "failed")
RESOLVED_BY = ("push", "callback", "status_query")


def upgrade() -> None:
    op.create_table(
        "topups",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, nullable=False),
        # The wallet owner (a ledger identity) and the wallet balance checked before the push.
        sa.Column("identity_id", sa.Text, nullable=False),
        sa.Column("wallet_balance_id", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        # What the customer's prompt and the provider's statement show (M-Pesa: at most 12 characters).
        sa.Column("account_reference", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("checkout_request_id", sa.Text, nullable=True),
        sa.Column("merchant_request_id", sa.Text, nullable=True),
        sa.Column("result_code", sa.Integer, nullable=True),
        sa.Column("result_desc", sa.Text, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("receipt", sa.Text, nullable=True),
        sa.Column("ledger_reference", sa.Text, nullable=True),
        sa.Column("ledger_transaction_id", sa.Text, nullable=True),
        sa.Column("callback_fingerprint", sa.Text, nullable=True),
        sa.Column("resolved_by", sa.Text, nullable=True),
        sa.Column("status_checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_status_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # One push per CheckoutRequestID: a callback finds exactly one intent.
        sa.UniqueConstraint("checkout_request_id", name="uq_topups_checkout_request_id"),
        # Reconciliation finds the intent of a statement line by it.
        sa.UniqueConstraint("account_reference", name="uq_topups_account_reference"),
        # Behind the platform's Idempotency-Key middleware: a retry after a lost stored response
        # finds the intent it already created instead of prompting the customer's phone again.
        sa.UniqueConstraint("workspace_id", "idempotency_key", name="uq_topups_workspace_idempotency_key"),
        sa.CheckConstraint(f"status IN {TOPUP_STATUSES!r}", name="ck_topups_status"),
        sa.CheckConstraint(f"resolved_by IS NULL OR resolved_by IN {RESOLVED_BY!r}", name="ck_topups_resolved_by"),
        sa.CheckConstraint("amount_minor > 0", name="ck_topups_amount_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_topups_currency"),
        sa.CheckConstraint("phone ~ '^\\+[1-9][0-9]{6,14}$'", name="ck_topups_phone_e164"),
        sa.CheckConstraint("status_checks >= 0", name="ck_topups_status_checks"),
        # Money reached the wallet exactly when the intent succeeded.
        sa.CheckConstraint(
            "(status = 'succeeded') = (ledger_reference IS NOT NULL)", name="ck_topups_succeeded_has_ledger_reference"
        ),
    )
    # The resolver's scan: pending intents whose status check is due, oldest first.
    op.create_index(
        "ix_topups_due_status_check",
        "topups",
        ["next_status_check_at"],
        postgresql_where=sa.text("status = 'pending' AND next_status_check_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_topups_due_status_check", table_name="topups")
    op.drop_table("topups")
