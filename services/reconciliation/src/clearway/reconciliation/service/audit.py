"""One place that writes who did what, for operator actions (manual matches, resolutions, imports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clearway.platform.ids import new_id
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork

AUDIT_ENTRY_ID_PREFIX = "aud"


async def record(
    uow: SqlReconciliationUnitOfWork,
    *,
    entity_type: str,
    entity_id: str,
    action: str,
    actor: str,
    at: datetime,
    **detail: Any,
) -> None:
    await uow.audit.add(
        entry_id=new_id(AUDIT_ENTRY_ID_PREFIX),
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        at=at,
        detail=detail,
    )
