"""Authorization: find a card account by its repayment reference (ISO 11649), so a funding transfer
quoting it repays the account. The reference is computed from the account id (its last 19
characters, `domain/repayment_references.py`), so nothing is stored: this indexes that tail.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_card_accounts_id_tail ON card_accounts (right(id, 19))")


def downgrade() -> None:
    op.drop_index("ix_card_accounts_id_tail", table_name="card_accounts")
