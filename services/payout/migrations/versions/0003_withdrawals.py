"""Payout: withdrawal methods as seed 001 needs them, payment intents, withdrawals, dual approval,
its audit log, per-currency limits (seeded with the documented defaults) and bank payout batches.

The skeleton's `withdrawal_methods` had no way to be written, so it is rebuilt rather than altered.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    ]


def _amount(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, sa.CheckConstraint(f"{name} > 0"), nullable=False)


def upgrade() -> None:
    op.drop_table("withdrawal_methods")
    op.create_table(
        "withdrawal_methods",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("method_type", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("account_number", sa.Text, nullable=False),
        sa.Column("account_number_masked", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("account_holder_name", sa.Text, nullable=True),
        sa.Column("bic", sa.Text, nullable=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_timestamps(),
        sa.CheckConstraint("method_type IN ('mobile_money', 'bank_account')", name="ck_withdrawal_methods_type"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_withdrawal_methods_currency"),
        sa.CheckConstraint("active OR NOT is_primary", name="ck_withdrawal_methods_primary_is_active"),
        sa.CheckConstraint("updated_at >= created_at", name="ck_withdrawal_methods_updated_after_created"),
    )
    op.create_index("ix_withdrawal_methods_user", "withdrawal_methods", ["user_id", "id"])
    # Seed 001: at most one primary per user, held by the database, not by hope.
    op.create_index(
        "ux_withdrawal_methods_primary",
        "withdrawal_methods",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "payment_intents",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        _amount("amount_minor"),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("provider_method", sa.Text, nullable=True),
        sa.Column("provider_reference", sa.Text, nullable=True),
        sa.Column("receipt", sa.Text, nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'cancelled')", name="ck_intents_status"),
        sa.CheckConstraint("updated_at >= created_at", name="ck_intents_updated_after_created"),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("withdrawal_method_id", sa.Text, sa.ForeignKey("withdrawal_methods.id"), nullable=True),
        sa.Column("method_type", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        _amount("amount_minor"),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("hold_status", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("payment_intent_id", sa.Text, sa.ForeignKey("payment_intents.id"), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("payable_id", sa.Text, nullable=True),
        sa.Column("hold_transaction_id", sa.Text, nullable=True),
        sa.Column("provider_reference", sa.Text, nullable=True),
        sa.Column("provider_conversation_id", sa.Text, nullable=True),
        sa.Column("receipt", sa.Text, nullable=True),
        sa.Column("failure_code", sa.Text, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("batch_id", sa.Text, nullable=True),
        sa.Column("approved_by", sa.Text, nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_status_check_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('reserving', 'pending_approval', 'approved', 'processing', 'succeeded', 'failed', "
            "'reversed', 'rejected')",
            name="ck_withdrawals_status",
        ),
        sa.CheckConstraint(
            "hold_status IN ('none', 'inflight', 'committed', 'voided', 'reversed')", name="ck_withdrawals_hold"
        ),
        sa.CheckConstraint("origin IN ('user', 'payable')", name="ck_withdrawals_origin"),
        sa.CheckConstraint("updated_at >= created_at", name="ck_withdrawals_updated_after_created"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_withdrawals_idempotency_key"),
    )
    op.create_index("ix_withdrawals_user", "withdrawals", ["user_id", "id"])
    op.create_index("ix_withdrawals_status", "withdrawals", ["status", "created_at"])
    op.create_index("ux_withdrawals_payable", "withdrawals", ["payable_id"], unique=True)
    op.create_index("ux_withdrawals_provider_reference", "withdrawals", ["provider_reference"], unique=True)
    op.create_index("ix_withdrawals_batch", "withdrawals", ["batch_id"])
    op.create_index(
        "ix_withdrawals_status_check",
        "withdrawals",
        ["next_status_check_at"],
        postgresql_where=sa.text("status = 'processing' AND next_status_check_at IS NOT NULL"),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("withdrawal_id", sa.Text, sa.ForeignKey("withdrawals.id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_approval_requests_status"),
        # Dual approval, held by the database too.
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="ck_approval_requests_dual"),
    )
    op.create_index(
        "ux_approval_requests_pending",
        "approval_requests",
        ["withdrawal_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("actor_roles", ARRAY(sa.Text), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "id"])
    # Only what an admin changed; domain/limits.py's DEFAULT_LIMITS fill in the rest.
    op.create_table(
        "currency_limits",
        sa.Column("currency", sa.Text, primary_key=True),
        sa.Column("min_minor", sa.BigInteger, nullable=False),
        sa.Column("max_minor", sa.BigInteger, nullable=False),
        sa.Column("daily_max_minor", sa.BigInteger, nullable=False),
        sa.Column("auto_approve_max_minor", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("0 < min_minor AND min_minor <= max_minor AND max_minor <= daily_max_minor"),
        sa.CheckConstraint("auto_approve_max_minor >= 0"),
    )
    op.create_table(
        "payout_batches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('open', 'submitted', 'settled')", name="ck_payout_batches_status"),
    )
    op.create_index(
        "ux_payout_batches_open", "payout_batches", ["currency"], unique=True, postgresql_where=sa.text("status = 'open'")
    )


def downgrade() -> None:
    for table in ("payout_batches", "currency_limits", "audit_log", "approval_requests", "withdrawals", "payment_intents"):
        op.drop_table(table)
