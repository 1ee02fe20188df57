"""`created_at` / `updated_at` that stay ordered whichever process or clock wrote them.

Two writers of one row (an HTTP request and a Kafka consumer, say) each read their own clock,
so a request that started before the consumer inserted the row can stamp it "updated" before it
was "created" (issue 12, defect 2). The rules:

- on write, an update never moves `updated_at` before `created_at`: `updated_at_not_before_creation`
  is the SQL for `GREATEST(created_at, :now)`, evaluated against the stored row;
- on read, a stored row is never a reason to fail: `repaired_updated_at` answers a usable value and
  reports the bad row once, so an operator can see it, instead of every read raising.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

logger = logging.getLogger("clearway.platform.timestamps")
# Bounded so a table full of bad rows cannot grow memory; past it, reports are simply repeated.
REPORTED_ROWS_MAX = 10_000
_reported: set[tuple[str, str]] = set()


def updated_at_not_before_creation(created_at_column: Any, now: datetime) -> ColumnElement[datetime]:
    """`GREATEST(<created_at>, :now)`: the value to store in `updated_at` on an UPDATE."""
    return func.greatest(created_at_column, now)


def repaired_updated_at(entity: str, row_id: str, created_at: datetime, updated_at: datetime) -> datetime:
    """`updated_at`, or `created_at` when a stored row has them the wrong way round (reported once)."""
    if updated_at >= created_at:
        return updated_at
    if (entity, row_id) not in _reported:
        if len(_reported) >= REPORTED_ROWS_MAX:
            _reported.clear()
        _reported.add((entity, row_id))
        logger.warning(
            "stored %s %s was updated before it was created; reading updated_at as created_at",
            entity,
            row_id,
            extra={"entity": entity, "row_id": row_id, "skew_ms": (created_at - updated_at).total_seconds() * 1000},
        )
    return created_at
