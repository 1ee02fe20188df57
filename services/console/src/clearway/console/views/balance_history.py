"""A balance over time, for the ledger's chart.

The ledger keeps no balance snapshots and no history endpoint: `GET /balances/{id}/at?timestamp=`
answers the balance at one moment (from its entries). The chart asks it at evenly spaced moments
from the balance's creation (or the start of the window) to now, in parallel.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.charts import Point
from clearway.console.formatting import parse_time
from clearway.console.views.ledger import ledger_amount

POINTS = 16  # enough for a shape, few enough calls to the ledger per page


def moments(created_at: datetime | None, now: datetime, days: int) -> list[datetime]:
    start = now - timedelta(days=days)
    if created_at is not None and created_at > start:
        start = created_at
    step = (now - start) / (POINTS - 1)
    return [start + step * index for index in range(POINTS)]


async def history(api: ServicesApi, key: str, found: dict[str, Any], days: int) -> list[Point]:
    now = datetime.now(UTC)
    when = moments(parse_time(found.get("created_at")), now, days)
    path = f"/balances/{found['balance_id']}/at"
    answers = await asyncio.gather(
        *(api.get("ledger", path, key, {"timestamp": moment.isoformat()}) for moment in when)
    )
    scale = Decimal(int(found.get("precision") or 1))
    return [
        Point(
            moment,
            Decimal(int(answer["balance"])) / scale,
            ledger_amount(answer["balance"], found["currency"], found.get("precision")),
        )
        for moment, answer in zip(when, answers, strict=True)
    ]
