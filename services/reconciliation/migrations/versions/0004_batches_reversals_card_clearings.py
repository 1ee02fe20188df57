"""Seed 003's remaining flows: explicit batches (so a payment can be cancelled after joining one),
reversals after settlement, card-network clearing files, and transactions held back from automatic
matching after the ledger refused their match.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOW = sa.func.now()
STRATEGIES = ("one_to_one", "many_to_one", "one_to_many", "bulk_split", "reversal", "card_settlement")


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('open', 'settled')", name="ck_batches_status"),
        sa.CheckConstraint("updated_at >= created_at", name="ck_batches_updated_at"),
    )
    # The bank's settlement names the batch by its reference: one open batch per reference on a link.
    op.create_index(
        "ux_batches_open_reference",
        "batches",
        ["link_id", "reference"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.add_column("expectations", sa.Column("batch_id", sa.Text, sa.ForeignKey("batches.id"), nullable=True))
    op.create_index("ix_expectations_batch", "expectations", ["batch_id"], postgresql_where=sa.text("batch_id IS NOT NULL"))

    op.add_column("matches", sa.Column("reverses_match_id", sa.Text, sa.ForeignKey("matches.id"), nullable=True))
    # A settlement is reversed once: a second live reversal of the same match is refused by the database.
    op.create_index(
        "ux_matches_reverses",
        "matches",
        ["reverses_match_id"],
        unique=True,
        postgresql_where=sa.text("reverses_match_id IS NOT NULL AND status IN ('matched', 'posted')"),
    )
    op.drop_constraint("ck_matches_strategy", "matches")
    op.create_check_constraint("ck_matches_strategy", "matches", f"strategy IN {STRATEGIES!r}")

    # The ledger refused this transaction's match: automatic rules leave it to an operator's manual
    # match instead of pairing it again (and failing again) on every arrival on its link.
    op.add_column(
        "external_transactions",
        sa.Column("held_for_review", sa.Boolean, nullable=False, server_default=sa.false()),
    )

    op.create_table(
        "card_clearings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("link_id", sa.Text, sa.ForeignKey("links.id"), nullable=False),
        sa.Column("clearing_id", sa.Text, nullable=False),
        # From the settlement file (null until it arrives) and the clearing file (null until it arrives):
        # the two files come in either order.
        sa.Column("settlement_id", sa.Text, nullable=True),
        sa.Column("expected_minor", sa.BigInteger, nullable=True),
        sa.Column("transactions", JSONB, nullable=True),
        sa.Column("settled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("link_id", "clearing_id", name="uq_card_clearings_link_clearing"),
        sa.CheckConstraint("status IN ('waiting', 'posted', 'mismatch')", name="ck_card_clearings_status"),
        sa.CheckConstraint("updated_at >= created_at", name="ck_card_clearings_updated_at"),
    )
    op.create_index(
        "ix_card_clearings_ready",
        "card_clearings",
        ["link_id"],
        postgresql_where=sa.text("status = 'waiting' AND settled AND transactions IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("card_clearings")
    op.drop_column("external_transactions", "held_for_review")
    op.drop_constraint("ck_matches_strategy", "matches")
    op.create_check_constraint(
        "ck_matches_strategy", "matches", "strategy IN ('one_to_one', 'many_to_one', 'one_to_many', 'bulk_split')"
    )
    op.drop_index("ux_matches_reverses", table_name="matches")
    op.drop_column("matches", "reverses_match_id")
    op.drop_index("ix_expectations_batch", table_name="expectations")
    op.drop_column("expectations", "batch_id")
    op.drop_table("batches")
