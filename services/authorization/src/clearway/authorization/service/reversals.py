"""Reversals: the processor releases all or part of an approved authorization's hold.

The ledger can commit part of a hold or void what it still holds, but cannot shrink it; so a full
reversal voids the hold, and a partial one voids it and places the rest again as the next
generation of the hold (its own deterministic reference, recorded on the row). The reversal is
committed (`reversing`) before the ledger is asked, so a crash leaves a row the recovery pass
finishes with the same references: a replay, never a second void or hold.

Void first, then the rest: releasing before re-holding can never be refused for want of room,
except when another authorization on the same card takes the released room in between. That
window is logged and the authorization ends fully reversed (the processor is told nothing is held).
"""

from __future__ import annotations

from dataclasses import replace

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import Authorization, AuthorizationStatus
from clearway.authorization.domain.errors import AuthorizationError, NotFoundError
from clearway.authorization.service.authorizations import InboxEntry, find
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.ledger import INFLIGHT
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.reversals")


async def reverse(
    context: AuthorizationContext,
    authorization_id: str,
    amount_minor: int | None,
    *,
    card_id: str | None = None,
    inbox: InboxEntry | None = None,
) -> Authorization | None:
    """Release `amount_minor` of the hold (all of it when None). From Kafka (`inbox` set) a refusal is
    logged and the event consumed (None); over HTTP it is the caller's problem+json."""
    async with context.unit_of_work() as uow:
        if inbox is not None and not await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic):
            return None  # a redelivery: its effect is already recorded
        try:
            current = await find(uow, authorization_id, for_update=True)
            if card_id is not None and current.card_id != card_id:
                raise NotFoundError(
                    f"Authorization {authorization_id[:64]} is not on card {card_id[:64]}.",
                    code="AUTHORIZATION_NOT_FOUND",
                )
            started = current.reversal_started(amount_minor, context.clock())
        except AuthorizationError as refusal:
            if inbox is None:
                raise
            logger.warning("reversal refused", authorization_id=authorization_id, code=refusal.error_code)
            await uow.commit()  # consumed: a redelivery would be refused the same way
            return None
        await uow.authorizations.update(started)
        await uow.commit()
    return await finish_reversal(context, started)


async def finish_reversal(context: AuthorizationContext, authorization: Authorization) -> Authorization:
    """Void the hold and re-place what is left, then commit. Safe to repeat."""
    assert authorization.status is AuthorizationStatus.REVERSING, f"{authorization.id} is {authorization.status}"
    assert authorization.hold_transaction_id is not None and authorization.card_account_id is not None
    assert authorization.overdraft_limit_minor is not None
    await context.ledger.void_hold(authorization.hold_transaction_id, reference=postings.void_reference(authorization))
    remaining_minor = authorization.remaining_after_reversal_minor
    new_hold_id: str | None = None
    lost = False
    if remaining_minor > 0:
        async with context.unit_of_work() as uow:
            account = await uow.card_accounts.get(authorization.card_account_id)
        assert account is not None, "card accounts are never deleted"
        hold = await context.ledger.post_with_overdraft_limit(
            postings.hold_posting(authorization, account, remaining_minor, authorization.hold_generation + 1),
            overdraft_limit_minor=authorization.overdraft_limit_minor,
        )
        if hold.status == INFLIGHT:
            new_hold_id = hold.transaction_id
        else:
            lost = True
            logger.error(
                "the rest of a partially reversed hold could not be placed again",
                authorization_id=authorization.id,
                remaining_minor=remaining_minor,
                status=hold.status,
            )
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(authorization.id, for_update=True)
        assert current is not None, "authorizations are never deleted"
        if (
            current.status is not AuthorizationStatus.REVERSING
            or current.hold_generation != authorization.hold_generation
        ):
            return current  # a concurrent recovery finished it first
        if lost:
            current = replace(current, reversing_minor=current.held_minor)
        finished = current.reversal_finished(new_hold_id, context.clock())
        await uow.authorizations.update(finished)
        await uow.commit()
    logger.info(
        "authorization reversed",
        authorization_id=authorization.id,
        reversed_minor=authorization.reversing_minor,
        held_minor=finished.held_minor,
    )
    return finished
