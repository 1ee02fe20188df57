"""Authorization: card account terms and ledger balances, cards, authorization decisions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The cardholder is a ledger identity; the row is committed `opening` before its balances exist.
    op.alter_column("card_accounts", "customer_id", new_column_name="identity_id")
    op.drop_index("ix_card_accounts_customer", table_name="card_accounts")
    op.create_index("ix_card_accounts_identity", "card_accounts", ["identity_id"])
    op.drop_constraint("ck_card_accounts_status", "card_accounts", type_="check")
    op.create_check_constraint(
        "ck_card_accounts_status", "card_accounts", "status IN ('opening', 'active', 'frozen', 'closed')"
    )
    for name, default in (
        ("billing_cycle_day", "1"),
        ("payment_due_days", "21"),
        ("fee_markup_bps", "150"),
        ("pending_interest_rate_bps", "0"),
        ("overdue_interest_rate_bps", "0"),
    ):
        op.add_column("card_accounts", sa.Column(name, sa.Integer, nullable=False, server_default=default))
    op.add_column(
        "card_accounts",
        sa.Column("balance_ids", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_check_constraint(
        "ck_card_accounts_billing_cycle_day", "card_accounts", "billing_cycle_day BETWEEN 1 AND 28"
    )
    op.create_index(
        "ix_card_accounts_opening",
        "card_accounts",
        ["updated_at"],
        postgresql_where=sa.text("status = 'opening'"),
    )

    # Never a PAN: the last four digits and the expiry only.
    op.create_table(
        "cards",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("card_account_id", sa.Text, sa.ForeignKey("card_accounts.id"), nullable=False),
        sa.Column("last_four", sa.Text, nullable=False),
        sa.Column("expires_month", sa.Integer, nullable=False),
        sa.Column("expires_year", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("blocked_mccs", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("per_transaction_max_minor", sa.BigInteger, nullable=True),
        sa.Column("daily_max_minor", sa.BigInteger, nullable=True),
        sa.Column("atm_allowed", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'frozen', 'closed')", name="ck_cards_status"),
        sa.CheckConstraint("last_four ~ '^[0-9]{4}$'", name="ck_cards_last_four"),
        sa.CheckConstraint("expires_month BETWEEN 1 AND 12", name="ck_cards_expires_month"),
    )
    op.create_index("ix_cards_card_account", "cards", ["card_account_id", "id"])

    op.create_table(
        "authorizations",
        sa.Column("id", sa.Text, primary_key=True),
        # The processor's id: one decision each, whichever door it came through.
        sa.Column("authorization_id", sa.Text, nullable=False, unique=True),
        sa.Column("card_id", sa.Text, nullable=False),
        sa.Column("card_account_id", sa.Text, nullable=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("merchant_name", sa.Text, nullable=False),
        sa.Column("merchant_category_code", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdraft_limit_minor", sa.BigInteger, nullable=True),
        sa.Column("hold_generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hold_transaction_id", sa.Text, nullable=True),
        sa.Column("held_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fee_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("available_credit_minor", sa.BigInteger, nullable=True),
        sa.Column("reversing_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'reversing', 'reversed')", name="ck_authorizations_status"
        ),
        sa.CheckConstraint("channel IN ('pos', 'ecommerce', 'atm')", name="ck_authorizations_channel"),
        sa.CheckConstraint("(status = 'pending') = (decision IS NULL)", name="ck_authorizations_decided"),
        sa.CheckConstraint("held_minor >= 0 AND held_minor <= amount_minor", name="ck_authorizations_held"),
    )
    op.create_index("ix_authorizations_card_created", "authorizations", ["card_id", "created_at"])
    op.create_index(
        "ix_authorizations_unfinished",
        "authorizations",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('pending', 'reversing')"),
    )


def downgrade() -> None:
    op.drop_table("authorizations")
    op.drop_table("cards")
    op.drop_index("ix_card_accounts_opening", table_name="card_accounts")
    op.drop_constraint("ck_card_accounts_billing_cycle_day", "card_accounts", type_="check")
    for name in (
        "balance_ids",
        "overdue_interest_rate_bps",
        "pending_interest_rate_bps",
        "fee_markup_bps",
        "payment_due_days",
        "billing_cycle_day",
    ):
        op.drop_column("card_accounts", name)
    op.drop_constraint("ck_card_accounts_status", "card_accounts", type_="check")
    op.create_check_constraint("ck_card_accounts_status", "card_accounts", "status IN ('active', 'frozen', 'closed')")
    op.drop_index("ix_card_accounts_identity", table_name="card_accounts")
    op.create_index("ix_card_accounts_customer", "card_accounts", ["identity_id"])
    op.alter_column("card_accounts", "identity_id", new_column_name="customer_id")
