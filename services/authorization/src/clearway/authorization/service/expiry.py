"""Expiry (issue 10 §3's `expire-authorizations` daily job): approved authorizations requested more
than `expiry_days` before the business date, never cleared or reversed, get their hold voided.

Per authorization in three steps, like a reversal: committed `expiring` (with the business date),
the hold voided under `authorization:<id>:expire:<generation>` (asking again is a replay), then
`expired` and `card.authorization.expired` commit together; the recovery pass finishes an
`expiring` row a crash left. Idempotent per business date: an expired authorization is no longer
approved, so running the job again for the same date expires (and posts) nothing.
"""

from __future__ import annotations

from datetime import date

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import Authorization, AuthorizationStatus, expiry_cutoff
from clearway.authorization.service import event_builders
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.expiry")

EXPIRE_AUTHORIZATIONS = "expire-authorizations"


async def expire_authorizations(context: AuthorizationContext, business_date: date) -> int:
    """-> how many authorizations this run expired."""
    cutoff = expiry_cutoff(business_date, context.policy.expiry_days)
    expired = 0
    while True:
        async with context.unit_of_work() as uow:
            stale = await uow.authorizations.approved_requested_before(cutoff, context.policy.batch_size_max)
        progress = 0
        for candidate in stale:
            try:
                started = await _start(context, candidate.id, business_date)
                if started is None:
                    continue
                progress += 1
                if (await finish_expiry(context, started)).status is AuthorizationStatus.EXPIRED:
                    expired += 1
            except Exception:
                # One stuck hold must not stop the others; the recovery pass or the next run finishes it.
                logger.exception("expiry step failed", authorization_id=candidate.id)
        if progress == 0:
            return expired


async def _start(context: AuthorizationContext, authorization_id: str, business_date: date) -> Authorization | None:
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(authorization_id, for_update=True)
        assert current is not None, "authorizations are never deleted"
        if not current.clearable:  # cleared, reversed or expired since it was listed
            return None
        started = current.expiry_started(business_date, context.clock())
        await uow.authorizations.update(started)
        await uow.commit()
    return started


async def finish_expiry(context: AuthorizationContext, authorization: Authorization) -> Authorization:
    """Void the stale hold, then commit `expired` and its event. Safe to repeat."""
    assert authorization.status is AuthorizationStatus.EXPIRING, f"{authorization.id} is {authorization.status}"
    assert authorization.hold_transaction_id is not None and authorization.expiry_business_date is not None
    await context.ledger.void_hold(
        authorization.hold_transaction_id, reference=postings.expire_reference(authorization)
    )
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(authorization.id, for_update=True)
        assert current is not None, "authorizations are never deleted"
        if current.status is not AuthorizationStatus.EXPIRING:
            return current  # a concurrent run or the recovery pass finished it first
        now = context.clock()
        expired = current.expired(now)
        await uow.authorizations.update(expired)
        await uow.events.add(
            event_builders.authorization_expired(current, current.held_minor, authorization.expiry_business_date, now)
        )
        await uow.commit()
    logger.info(
        "authorization expired",
        authorization_id=authorization.id,
        released_minor=current.held_minor,
        business_date=authorization.expiry_business_date.isoformat(),
    )
    return expired
