"""SQL for the outbox: a batch's events, written in the same transaction as its effects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clearway.ledger.adapters.sql import SqlRepository, json_text


class OutboxRepository(SqlRepository):
    async def insert_outbox(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        await self.connection.execute(
            """
            INSERT INTO outbox (event_id, topic, message_key, event_type, headers, payload, created_at)
            SELECT e, t, k, y, h::jsonb, p::jsonb, c
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                AS u(e, t, k, y, h, p, c)
            """,
            *[
                [json_text(value) for value in column] if index in (4, 5) else list(column)
                for index, column in enumerate(columns)
            ],
        )
        await self.connection.execute("SELECT pg_notify('clearway_outbox', '')")
