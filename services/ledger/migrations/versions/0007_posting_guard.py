"""`ledger_require_unmoved(versions_match, balance_ids)`: fails the statement it is in, as a serialization
failure, unless the versions match and none of the balances has a monitor.

The posting fast lane (`service/posting/fast_lane.py`) writes a batch in one statement that commits on
its own; the statement refuses itself with this when a balance moved after the batch read it, or has
a monitor (whose crossing the locked path writes with the batch), so nothing of the batch stays and it
runs again on the locked path. SQL has no way to raise by itself; SQLSTATE 40001 is what a lost
optimistic race is (the posting store already retries on it). The monitor check is a statement of
the function's own: a volatile function's statement takes a fresh snapshot, so it sees a monitor
committed while the calling statement waited for the balances' locks (creating a monitor locks its
balance's row until it commits), which the calling statement's older snapshot would not.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_require_unmoved(versions_match boolean, balance_ids text[]) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF NOT versions_match THEN
                RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                    MESSAGE = 'a balance moved since the batch read it';
            END IF;
            IF EXISTS (SELECT 1 FROM balance_monitors WHERE balance_id = ANY(balance_ids)) THEN
                RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                    MESSAGE = 'a balance the batch posted on has a monitor';
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_require_unmoved(boolean, text[])")
