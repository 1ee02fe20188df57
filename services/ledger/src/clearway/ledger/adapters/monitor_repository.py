"""SQL for balance monitors.

`MonitorRepository` is what a batch needs: the new triggered states (it reads the monitors on
the balances it touched with its writes, `posting_write_repository`). `MonitorCatalog` creates,
reads and lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from clearway.ledger.adapters.sql import SqlRepository
from clearway.ledger.adapters.tenancy_sql import balance_visible


class MonitorRepository(SqlRepository):
    async def set_monitor_states(self, states: Sequence[tuple[str, bool]]) -> None:
        if states:
            await self.connection.execute(
                """UPDATE balance_monitors m SET is_triggered = v.triggered
                   FROM unnest($1::text[], $2::boolean[]) AS v(monitor_id, triggered)
                   WHERE m.monitor_id = v.monitor_id""",
                [monitor_id for monitor_id, _ in states],
                [triggered for _, triggered in states],
            )


class MonitorCatalog(SqlRepository):
    async def insert_monitor(
        self,
        monitor_id: str,
        balance_id: str,
        field: str,
        operator: str,
        value_minor: int,
        precision: int,
        description: str,
    ) -> asyncpg.Record:
        return await self.connection.fetchrow(
            """INSERT INTO balance_monitors (monitor_id, balance_id, field, operator, value_minor, precision, description)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
            monitor_id,
            balance_id,
            field,
            operator,
            value_minor,
            precision,
            description,
        )

    async def get_monitor(self, monitor_id: str, workspace_id: str | None = None) -> asyncpg.Record | None:
        """A monitor is its balance's: visible where the balance is."""
        return await self.connection.fetchrow(
            f"""SELECT m.* FROM balance_monitors m JOIN balances ON balances.balance_id = m.balance_id
               WHERE m.monitor_id = $1 AND {balance_visible(2)}""",  # noqa: S608
            monitor_id,
            workspace_id,
        )

    async def list_monitors(self, limit: int, offset: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT * FROM balance_monitors ORDER BY created_at, monitor_id LIMIT $1 OFFSET $2", limit, offset
        )
        return rows
