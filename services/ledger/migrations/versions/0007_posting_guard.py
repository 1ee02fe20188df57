"""`ledger_require(ok, message)`: fails the statement it is in, as a serialization failure, unless `ok`.

The posting fast lane (`service/posting/fast_lane.py`) writes a batch in one statement that commits on
its own; the statement refuses itself with this when a balance moved after the batch read it, so
nothing of the batch stays and the batch runs again on the locked path. SQL has no way to raise by
itself; SQLSTATE 40001 is what a lost optimistic race is (the posting store already retries on it).

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
        CREATE FUNCTION ledger_require(ok boolean, message text) RETURNS boolean
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT ok THEN
                RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message;
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_require(boolean, text)")
