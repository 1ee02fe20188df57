"""Batch use cases (seed 003's batch send): form a batch of outbound payments before the bank
settles it, so a payment can still be cancelled after joining (service/expectations.py).

Forming commits the batch and its members first, then posts each member's initiation and
`prepare_batch` (iks derived from the batch and the payment, so a retry is a ledger replay). A crash
in between is finished by the settlement's match, which posts the same entries again as replays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.batches import BATCH_ID_PREFIX, Batch, BatchStatus, validate_members
from clearway.reconciliation.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.expectations import Expectation, ExpectationStatus, InitiationStatus
from clearway.reconciliation.domain.matches import prepare_entry
from clearway.reconciliation.service import audit, expectations
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.batches")


@dataclass(frozen=True, slots=True)
class BatchView:
    batch: Batch
    members: Sequence[Expectation]

    @property
    def total_minor(self) -> int:
        """What the bank should settle: the members still in it (a cancelled one left)."""
        return sum(m.amount_minor for m in self.members if m.status is not ExpectationStatus.CANCELLED)


async def form_batch(
    context: ReconciliationContext, *, link_id: str, reference: str, expectation_ids: list[str], actor: str
) -> BatchView:
    validate_members(expectation_ids)
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
        if link is None:
            raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
        members = await uow.expectations.get_many(expectation_ids, for_update=True)
        if len(members) != len(expectation_ids):
            raise NotFoundError("Some of the named expectations do not exist.", code="EXPECTATION_NOT_FOUND")
        for member in members:
            _may_join(member, link_id)
        now = context.clock()
        batch = Batch(new_id(BATCH_ID_PREFIX), link_id, reference, link.currency, BatchStatus.OPEN, actor, now, now)
        if not await uow.batches.add(batch):
            raise ConflictError(
                f"Link {link_id} already has an open batch with reference {reference!r}.", code="BATCH_REFERENCE_TAKEN"
            )
        await uow.expectations.join_batch(expectation_ids, batch.id, now)
        await audit.record(uow, entity_type="batch", entity_id=batch.id, action="formed", actor=actor, at=now)
        await uow.commit()
        joined = await uow.expectations.in_batch(batch.id)
    for member in joined:
        posted = await expectations.post_initiation(context, member)
        prepare = prepare_entry(posted, batch.id)
        await context.ledger.post_entry(
            link.ledger_id, type=prepare.type, ik=prepare.ik, parameters=prepare.parameters, currency=link.currency
        )
    logger.info("batch formed", batch_id=batch.id, payments=len(joined))
    return await get_batch(context, batch.id)


def _may_join(member: Expectation, link_id: str) -> None:
    if member.link_id != link_id:
        raise InvalidRequestError(f"Expectation {member.id} is on another link.", code="LINK_MISMATCH")
    if member.direction != "outbound":
        raise InvalidRequestError("Only outbound payments are batched.", code="BATCH_OUTBOUND_ONLY")
    if member.status is not ExpectationStatus.OPEN or member.initiation_status is InitiationStatus.REVERSED:
        raise ConflictError(f"Expectation {member.id} is {member.status.value}.", code="EXPECTATION_NOT_OPEN")
    if member.batch_id is not None:
        raise ConflictError(f"Expectation {member.id} is in batch {member.batch_id}.", code="ALREADY_IN_BATCH")


async def get_batch(context: ReconciliationContext, batch_id: str) -> BatchView:
    async with context.unit_of_work() as uow:
        batch = await uow.batches.get(batch_id)
        if batch is None:
            raise NotFoundError(f"No batch {batch_id}.", code="BATCH_NOT_FOUND")
        return BatchView(batch, await uow.expectations.in_batch(batch_id))


async def list_batches(
    context: ReconciliationContext, *, link_id: str | None, starting_after: str | None, limit: int
) -> Sequence[Batch]:
    async with context.unit_of_work() as uow:
        return await uow.batches.list(link_id=link_id, starting_after=starting_after, limit=limit)
