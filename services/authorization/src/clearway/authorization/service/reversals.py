"""Reversals: the processor releases all or part of an approved authorization's hold.

A full reversal voids the hold; a partial one voids that much of it (the ledger's partial void), so
the rest stays held in the same hold throughout: no window in which another authorization on the
card could take the released room before the rest is held again. The reversal is committed
(`reversing`) before the ledger is asked, under a void reference unique to this reversal (the hold
generation, which every finished reversal advances), so a crash leaves a row the recovery pass
finishes with the same reference: a replay, never a second void.

A reversal naming an incremental authorization (by its processor id or ours) acts on its original,
which holds the combined hold: a full one releases what is left of that increment (never more than
the original still holds), a partial one that much of it (at most what is left). What it released is
counted on the increment in the same commit that starts the original's reversal, so a second full
reversal of the same increment releases nothing (409 `AUTHORIZATION_NOT_REVERSIBLE`, or consumed
over Kafka). The answer is the original, whose `held_minor` is what the transaction still holds.
"""

from __future__ import annotations

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import Authorization, AuthorizationStatus
from clearway.authorization.domain.errors import AuthorizationError, ConflictError, NotFoundError
from clearway.authorization.service.authorizations import InboxEntry, find
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.reversals")

# Refusals that last only while another step finishes (a decision, a raise, a reversal): over Kafka
# the reversal is retried (then dead-lettered if it never settles) instead of being dropped.
RETRIED_CONFLICTS = frozenset({"AUTHORIZATION_IN_PROGRESS", "REVERSAL_IN_PROGRESS"})


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
            increment: Authorization | None = None
            if current.incremental_of is None:
                started = current.reversal_started(amount_minor, context.clock())
            else:
                # An increment's id names its original's transaction: the original's combined hold is
                # reduced by (at most) what is left of the increment.
                original = await uow.authorizations.get(current.incremental_of, for_update=True)
                assert original is not None, "authorizations are never deleted"
                increment, started = current.increment_reversal_started(original, amount_minor, context.clock())
        except AuthorizationError as refusal:
            if inbox is None:
                raise
            if isinstance(refusal, ConflictError) and refusal.error_code in RETRIED_CONFLICTS:
                raise  # busy for a moment: the event is retried (the inbox row is rolled back with it)
            logger.warning("reversal refused", authorization_id=authorization_id, code=refusal.error_code)
            await uow.commit()  # consumed: a redelivery would be refused the same way
            return None
        if increment is not None:
            await uow.authorizations.update(increment)
        await uow.authorizations.update(started)
        await uow.commit()
    return await finish_reversal(context, started)


async def finish_reversal(context: AuthorizationContext, authorization: Authorization) -> Authorization:
    """Void the reversed part of the hold (all of it for a full reversal), then commit. Safe to repeat."""
    assert authorization.status is AuthorizationStatus.REVERSING, f"{authorization.id} is {authorization.status}"
    assert authorization.hold_transaction_id is not None
    remaining_minor = authorization.remaining_after_reversal_minor
    await context.ledger.void_hold(
        authorization.hold_transaction_id,
        reference=postings.void_reference(authorization),
        amount_minor=authorization.reversing_minor if remaining_minor > 0 else None,
    )
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(authorization.id, for_update=True)
        assert current is not None, "authorizations are never deleted"
        if (
            current.status is not AuthorizationStatus.REVERSING
            or current.hold_generation != authorization.hold_generation
        ):
            return current  # a concurrent recovery finished it first
        finished = current.reversal_finished(context.clock())
        await uow.authorizations.update(finished)
        await uow.commit()
    logger.info(
        "authorization reversed",
        authorization_id=authorization.id,
        reversed_minor=authorization.reversing_minor,
        held_minor=finished.held_minor,
    )
    return finished
