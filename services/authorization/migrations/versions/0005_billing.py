"""Authorization: daily job runs per account and date, statements, repayments (seed 002 steps 6b, 9-12).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per (job, account, business date): the plan is recorded before the ledger is asked,
    # so a re-run replays the same postings (a crash) or posts nothing (done).
    op.create_table(
        "card_job_runs",
        sa.Column("job", sa.Text, nullable=False),
        sa.Column("card_account_id", sa.Text, sa.ForeignKey("card_accounts.id"), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("plan", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", "card_account_id", "business_date", name="pk_card_job_runs"),
        sa.CheckConstraint("status IN ('pending', 'done')", name="ck_card_job_runs_status"),
    )
    op.create_table(
        "statements",
        sa.Column("card_account_id", sa.Text, sa.ForeignKey("card_accounts.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False, unique=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("principal_minor", sa.BigInteger, nullable=False),
        sa.Column("billed_minor", sa.BigInteger, nullable=False),
        sa.Column("fees_minor", sa.BigInteger, nullable=False),
        sa.Column("interest_minor", sa.BigInteger, nullable=False),
        sa.Column("total_due_minor", sa.BigInteger, nullable=False),
        sa.Column("transactions", JSONB, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("card_account_id", "number", name="pk_statements"),
        sa.UniqueConstraint("card_account_id", "period_end", name="uq_statements_period_end"),
        sa.CheckConstraint("number >= 1", name="ck_statements_number"),
        sa.CheckConstraint("status IN ('open', 'overdue', 'paid')", name="ck_statements_status"),
    )
    op.add_column("clearings", sa.Column("statement_number", sa.Integer, nullable=True))
    op.create_index(
        "ix_clearings_unbilled",
        "clearings",
        ["card_account_id", "id"],
        postgresql_where=sa.text("status = 'posted' AND statement_number IS NULL"),
    )
    op.create_table(
        "repayments",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("card_account_id", sa.Text, sa.ForeignKey("card_accounts.id"), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("allocation", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("card_account_id", "reference", name="uq_repayments_reference"),
        sa.CheckConstraint("amount_minor > 0", name="ck_repayments_amount"),
        sa.CheckConstraint("status IN ('pending', 'posted')", name="ck_repayments_status"),
    )


def downgrade() -> None:
    op.drop_table("repayments")
    op.drop_index("ix_clearings_unbilled", table_name="clearings")
    op.drop_column("clearings", "statement_number")
    op.drop_table("statements")
    op.drop_table("card_job_runs")
