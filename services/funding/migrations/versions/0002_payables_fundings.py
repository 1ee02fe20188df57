"""Funding: workspaces, payables, fundings (invoices) and deposit link proposals.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PAYABLE_STATUSES = ("created", "approved", "unapproved", "in_funding", "funded", "paying", "paid", "cancelled")
FUNDING_STATUSES = ("awaiting_funds", "linking", "funded", "paid_out", "cancelled", "expired")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Text, primary_key=True),
        # Created once in the ledger; its `wallet:<identity>` balance holds pre-funded money.
        sa.Column("ledger_identity_id", sa.Text, nullable=True),
        sa.Column("auto_link_deposits", sa.Boolean, nullable=False, server_default=sa.false()),
        *_timestamps(),
    )
    op.create_table(
        "payables",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("payee_id", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("external_id", sa.Text, nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unapproved_by", sa.Text, nullable=True),
        sa.Column("unapproved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Text, nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("funding_id", sa.Text, nullable=True),
        sa.Column("pay_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hold_transaction_id", sa.Text, nullable=True),
        sa.Column("ledger_reference", sa.Text, nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("amount_minor > 0", name="ck_payables_amount_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_payables_currency"),
        sa.CheckConstraint(_one_of("status", PAYABLE_STATUSES), name="ck_payables_status"),
        sa.CheckConstraint("pay_attempts >= 0", name="ck_payables_pay_attempts"),
        sa.CheckConstraint(
            "status NOT IN ('in_funding', 'funded') OR funding_id IS NOT NULL", name="ck_payables_funding"
        ),
        sa.CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name="ck_payables_paid_at"),
    )
    # A client's own id names one payable per workspace.
    op.create_index(
        "uq_payables_workspace_external_id",
        "payables",
        ["workspace_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("ix_payables_workspace_id", "payables", ["workspace_id", "id"])
    op.create_index("ix_payables_funding_id", "payables", ["funding_id"], postgresql_where=sa.text("funding_id IS NOT NULL"))
    # Pre-funding pays waiting payables in approval order.
    op.create_index(
        "ix_payables_waiting",
        "payables",
        ["workspace_id", "currency", "approved_at", "id"],
        postgresql_where=sa.text("status = 'approved' AND funding_id IS NULL"),
    )
    op.create_index("ix_payables_paying", "payables", ["updated_at"], postgresql_where=sa.text("status = 'paying'"))

    op.execute("CREATE SEQUENCE funding_invoice_number_seq START 1")
    op.create_table(
        "fundings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        # The invoice as issued: a document does not change when a payable is later edited.
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("invoice_number", sa.Text, nullable=False),
        sa.Column("payment_reference", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient_name", sa.Text, nullable=False),
        sa.Column("recipient_email", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("deposit_id", sa.Text, nullable=True),
        sa.Column("processor", sa.Text, nullable=True),
        sa.Column("transfer_id", sa.Text, nullable=True),
        sa.Column("account_id", sa.Text, nullable=True),
        sa.Column("deposit_amount_minor", sa.BigInteger, nullable=True),
        sa.Column("linked_by", sa.Text, nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Text, nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoice_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoice_send_attempts", sa.Integer, nullable=False, server_default="0"),
        *_timestamps(),
        sa.UniqueConstraint("invoice_number", name="uq_fundings_invoice_number"),
        sa.UniqueConstraint("payment_reference", name="uq_fundings_payment_reference"),
        sa.CheckConstraint("total_minor > 0", name="ck_fundings_total_minor"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_fundings_currency"),
        sa.CheckConstraint(_one_of("status", FUNDING_STATUSES), name="ck_fundings_status"),
        sa.CheckConstraint("kind IN ('payables', 'prefunding')", name="ck_fundings_kind"),
        sa.CheckConstraint(
            "(status IN ('linking', 'funded', 'paid_out')) = (transfer_id IS NOT NULL)", name="ck_fundings_deposit"
        ),
        sa.CheckConstraint(
            "deposit_amount_minor IS NULL OR deposit_amount_minor = total_minor", name="ck_fundings_deposit_amount"
        ),
    )
    # A settled transfer pays one invoice, ever.
    op.create_index(
        "uq_fundings_transfer",
        "fundings",
        ["processor", "transfer_id"],
        unique=True,
        postgresql_where=sa.text("transfer_id IS NOT NULL"),
    )
    op.create_index("ix_fundings_workspace_id", "fundings", ["workspace_id", "id"])
    op.create_index(
        "ix_fundings_unfinished", "fundings", ["updated_at"], postgresql_where=sa.text("status IN ('linking', 'funded')")
    )
    op.create_index(
        "ix_fundings_awaiting", "fundings", ["expires_at"], postgresql_where=sa.text("status = 'awaiting_funds'")
    )

    # A deposit whose payment reference names an invoice is proposed for it.
    op.add_column("deposits", sa.Column("proposed_funding_id", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("deposits", "proposed_funding_id")
    op.drop_table("fundings")
    op.execute("DROP SEQUENCE funding_invoice_number_seq")
    op.drop_table("payables")
    op.drop_table("workspaces")
