"""Expectation use cases: what should move on a link, from the API or from other services' events.

An outbound expectation starts seed 003's initiation phase at once (`initiate_payment` through the
ledger, ik derived from the expectation id), committed first and posted after, so a crash in
between is finished by the posting pass. Cancelling an open one reverses its initiation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from clearway.platform.ids import new_id
from clearway.platform.ledger import LedgerRefusedError
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.expectations import (
    EXPECTATION_ID_PREFIX,
    Expectation,
    ExpectationStatus,
    InitiationStatus,
    NewExpectation,
    new_expectation,
)
from clearway.reconciliation.domain.matches import initiation_entry, prepare_entry
from clearway.reconciliation.service import audit
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.expectations")


async def add_expectation(
    context: ReconciliationContext,
    command: NewExpectation,
    *,
    actor: str,
    inbox: tuple[str, str, str] | None = None,
) -> Expectation | None:
    """Store it (once per source fact; with `inbox` (consumer, event id, topic), once per event) and
    post its initiation. None when the event was already handled."""
    async with context.unit_of_work() as uow:
        if inbox is not None and not await uow.inbox.record_once(*inbox):
            return None
        link = await uow.links.get(command.link_id)
        if link is None:
            raise NotFoundError(f"No link {command.link_id}.", code="LINK_NOT_FOUND")
        if command.currency != link.currency:
            raise InvalidRequestError(
                f"Link {link.id} holds {link.currency}, not {command.currency}.", code="CURRENCY_MISMATCH"
            )
        now = context.clock()
        stored = await uow.expectations.add_if_new(
            new_expectation(command, expectation_id=new_id(EXPECTATION_ID_PREFIX), now=now)
        )
        await audit.record(uow, entity_type="expectation", entity_id=stored.id, action="created", actor=actor, at=now)
        await uow.commit()
    return await post_initiation(context, stored)


async def post_initiation(context: ReconciliationContext, expectation: Expectation) -> Expectation:
    """The outbound payment's initiation entry; a replay when already posted."""
    if expectation.initiation_status is not InitiationStatus.PENDING:
        return expectation
    async with context.unit_of_work() as uow:
        link = await uow.links.get(expectation.link_id)
    assert link is not None
    planned = initiation_entry(expectation)
    try:
        await context.ledger.post_entry(
            link.ledger_id,
            type=planned.type,
            ik=planned.ik,
            parameters=planned.parameters,
            currency=expectation.currency,
        )
    except LedgerRefusedError:
        if await context.ledger.get_entry(link.ledger_id, planned.ik) is None:
            raise  # refused on its own merits (the user's balance cannot cover it)
    async with context.unit_of_work() as uow:
        current = await uow.expectations.get(expectation.id, for_update=True)
        assert current is not None
        if current.initiation_status is InitiationStatus.PENDING:
            current = replace(current, initiation_status=InitiationStatus.POSTED, updated_at=context.clock())
            await uow.expectations.update(current)
            await uow.commit()
    logger.info("payment initiated", expectation_id=expectation.id, ik=planned.ik)
    return current


async def cancel_expectation(
    context: ReconciliationContext, expectation_id: str, *, actor: str, reason: str
) -> Expectation:
    """Seed 003: a payment cancelled before settlement reverses its initiation entry (and its
    prepare_batch when it joined a batch: the batch settles for the payments left in it)."""
    async with context.unit_of_work() as uow:
        current = await uow.expectations.get(expectation_id, for_update=True)
        if current is None:
            raise NotFoundError(f"No expectation {expectation_id}.", code="EXPECTATION_NOT_FOUND")
        if current.status is not ExpectationStatus.OPEN:
            raise ConflictError(
                f"Expectation {expectation_id} is {current.status.value}; only an open one is cancelled.",
                code="EXPECTATION_NOT_OPEN",
                current_status=current.status.value,
            )
        now = context.clock()
        cancelled = replace(current, status=ExpectationStatus.CANCELLED, updated_at=now)
        await uow.expectations.update(cancelled)
        await audit.record(
            uow,
            entity_type="expectation",
            entity_id=expectation_id,
            action="cancelled",
            actor=actor,
            at=now,
            reason=reason,
        )
        await uow.commit()
    return await reverse_initiation(context, cancelled)


async def reverse_initiation(context: ReconciliationContext, expectation: Expectation) -> Expectation:
    if (
        expectation.status is not ExpectationStatus.CANCELLED
        or expectation.initiation_status is not InitiationStatus.POSTED
    ):
        return expectation
    assert expectation.initiation_ik is not None
    async with context.unit_of_work() as uow:
        link = await uow.links.get(expectation.link_id)
    assert link is not None
    if expectation.batch_id is not None:
        # Seed 003: cancelled after joining a batch, reverse its prepare_batch too. Posting it first (a
        # replay when the batch's own post came first) makes the outcome the same in either order.
        prepare = prepare_entry(expectation, expectation.batch_id)
        await context.ledger.post_entry(
            link.ledger_id, type=prepare.type, ik=prepare.ik, parameters=prepare.parameters, currency=link.currency
        )
        await context.ledger.reverse_entry(link.ledger_id, prepare.ik)
    await context.ledger.reverse_entry(link.ledger_id, expectation.initiation_ik)
    async with context.unit_of_work() as uow:
        current = await uow.expectations.get(expectation.id, for_update=True)
        assert current is not None
        current = replace(current, initiation_status=InitiationStatus.REVERSED, updated_at=context.clock())
        await uow.expectations.update(current)
        await uow.commit()
    logger.info("payment initiation reversed", expectation_id=expectation.id)
    return current


async def cancel_by_source(context: ReconciliationContext, source: str, source_id: str, *, reason: str) -> None:
    async with context.unit_of_work() as uow:
        found = await uow.expectations.by_source(source, source_id)
    if found is not None and found.status is ExpectationStatus.OPEN:
        await cancel_expectation(context, found.id, actor=f"event:{source}", reason=reason)


async def get_expectation(context: ReconciliationContext, expectation_id: str) -> Expectation:
    async with context.unit_of_work() as uow:
        found = await uow.expectations.get(expectation_id)
    if found is None:
        raise NotFoundError(f"No expectation {expectation_id}.", code="EXPECTATION_NOT_FOUND")
    return found


async def list_expectations(
    context: ReconciliationContext,
    *,
    link_id: str | None,
    status: ExpectationStatus | None,
    starting_after: str | None,
    limit: int,
) -> Sequence[Expectation]:
    async with context.unit_of_work() as uow:
        return await uow.expectations.list(link_id=link_id, status=status, starting_after=starting_after, limit=limit)
