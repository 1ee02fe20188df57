"""SQL for holds: the inflight amounts a commit or void settles, and the ones past expiry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.domain.distribution import Leg
from clearway.ledger.domain.posting import Hold


class HoldRepository(SqlRepository):
    async def lock_holds(self, transaction_ids: Iterable[str]) -> dict[str, tuple[Hold, datetime | None]]:
        ordered = sorted(set(transaction_ids))
        if not ordered:
            return {}
        rows = await self.connection.fetch(
            """
            SELECT transaction_id, currency, debits, credits, amount_minor, committed_minor, voided_minor,
                   expires_at
            FROM holds WHERE transaction_id = ANY($1::text[]) ORDER BY transaction_id FOR UPDATE
            """,
            ordered,
        )
        return {
            row["transaction_id"]: (
                Hold(
                    transaction_id=row["transaction_id"],
                    currency=row["currency"],
                    debits=tuple(Leg(item[0], int(item[1])) for item in row["debits"]),
                    credits=tuple(Leg(item[0], int(item[1])) for item in row["credits"]),
                    amount_minor=row["amount_minor"],
                    committed_minor=row["committed_minor"],
                    voided_minor=row["voided_minor"],
                ),
                row["expires_at"],
            )
            for row in rows
        }

    async def insert_holds(self, holds: Sequence[tuple[Hold, datetime | None]]) -> None:
        if not holds:
            return
        await self.connection.executemany(
            """
            INSERT INTO holds (transaction_id, currency, debits, credits, amount_minor, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [
                (
                    hold.transaction_id,
                    hold.currency,
                    [[leg.identifier, leg.amount_minor] for leg in hold.debits],
                    [[leg.identifier, leg.amount_minor] for leg in hold.credits],
                    hold.amount_minor,
                    expires_at,
                )
                for hold, expires_at in holds
            ],
        )

    async def save_holds(self, holds: Sequence[Hold]) -> None:
        if not holds:
            return
        await self.connection.execute(
            """
            UPDATE holds h SET committed_minor = v.committed, voided_minor = v.voided, updated_at = now()
            FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(transaction_id, committed, voided)
            WHERE h.transaction_id = v.transaction_id
            """,
            [hold.transaction_id for hold in holds],
            [hold.committed_minor for hold in holds],
            [hold.voided_minor for hold in holds],
        )

    async def expired_holds(self, now: datetime, limit: int) -> list[str]:
        rows = await self.connection.fetch(
            """
            SELECT transaction_id FROM holds
            WHERE committed_minor + voided_minor < amount_minor AND expires_at IS NOT NULL AND expires_at <= $1
            ORDER BY expires_at LIMIT $2
            """,
            now,
            limit,
        )
        return [row["transaction_id"] for row in rows]
