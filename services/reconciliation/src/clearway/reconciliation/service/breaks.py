"""Raising breaks (stored once per kind and subject, published) and resolving them with a note."""

from __future__ import annotations

from collections.abc import Sequence

from clearway.contracts.events import BreakDetected
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.domain.breaks import BREAK_ID_PREFIX, Break, BreakKind, DetectedBreak
from clearway.reconciliation.domain.errors import ConflictError, NotFoundError
from clearway.reconciliation.service import audit
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.breaks")


async def raise_break(uow: SqlReconciliationUnitOfWork, context: ReconciliationContext, found: DetectedBreak) -> bool:
    """In the caller's transaction: store and publish unless the same break is already open."""
    now = context.clock()
    stored = Break(
        id=new_id(BREAK_ID_PREFIX),
        kind=found.kind,
        subject=found.subject,
        link_id=found.link_id,
        detail=found.detail,
        detected_at=now,
        resolved_at=None,
        resolved_by=None,
        resolution_note=None,
    )
    if not await uow.breaks.add_if_new(stored):
        return False
    await uow.events.add(
        BreakDetected(
            break_id=stored.id,
            kind=stored.kind.value,
            subject=stored.subject,
            link_id=stored.link_id,
            detail=stored.detail,
            detected_at=now,
        )
    )
    logger.warning("reconciliation break", break_id=stored.id, kind=stored.kind.value, subject=stored.subject)
    return True


async def list_breaks(
    context: ReconciliationContext, *, open_only: bool, kind: BreakKind | None, starting_after: str | None, limit: int
) -> Sequence[Break]:
    async with context.unit_of_work() as uow:
        return await uow.breaks.list(open_only=open_only, kind=kind, starting_after=starting_after, limit=limit)


async def get_break(context: ReconciliationContext, break_id: str) -> Break:
    async with context.unit_of_work() as uow:
        found = await uow.breaks.get(break_id)
    if found is None:
        raise NotFoundError(f"No break {break_id}.", code="BREAK_NOT_FOUND")
    return found


async def resolve_break(context: ReconciliationContext, break_id: str, *, actor: str, note: str) -> Break:
    async with context.unit_of_work() as uow:
        found = await uow.breaks.get(break_id, for_update=True)
        if found is None:
            raise NotFoundError(f"No break {break_id}.", code="BREAK_NOT_FOUND")
        if found.resolved_at is not None:
            raise ConflictError(f"Break {break_id} is already resolved.", code="BREAK_RESOLVED")
        now = context.clock()
        await uow.breaks.resolve(break_id, by=actor, note=note, now=now)
        await audit.record(
            uow, entity_type="break", entity_id=break_id, action="resolved", actor=actor, at=now, note=note
        )
        resolved = await uow.breaks.get(break_id)
        await uow.commit()
    assert resolved is not None
    return resolved
