"""Clearing use cases (seed 002, steps 7-8): post a processor's clearing to the ledger, read clearings.

Two doors, one use case: `POST /clearings` and `card.clearing.received` both call `clear`. In three
steps, so a crash anywhere leaves something the next attempt finishes:

1. record: under a lock on the processor's clearing id, the clearing is committed `pending` with what
   it will do (the hold to commit and what it held, the fee posted at authorization), and its
   authorization `clearing` (no reversal or expiry can touch the hold meanwhile);
2. ledger: commit the hold (all, or `amount_minor` and release the rest), post what is above the hold
   (or the whole force post) with the credit limit as its overdraft limit, refund the authorization's
   fee and post the recalculated one when it changed; each under a reference derived from our ids,
   so asking again is a replay;
3. finish: the clearing `posted` (or `rejected`), the authorization `cleared`, and
   `card.clearing.posted` commit together.

A `pending` clearing is finished by a retry with the same clearing id or by the recovery pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import Authorization, AuthorizationStatus
from clearway.authorization.domain.card_accounts import CardAccount
from clearway.authorization.domain.clearings import (
    CLEARING_ID_PREFIX,
    Clearing,
    ClearingRequest,
    ClearingStatus,
    fee_change,
)
from clearway.authorization.domain.errors import (
    AuthorizationError,
    ConflictError,
    InProgressError,
    NotFoundError,
    RuleViolationError,
)
from clearway.authorization.service import event_builders
from clearway.authorization.service.authorizations import InboxEntry
from clearway.authorization.service.context import AuthorizationContext
from clearway.authorization.service.ports import AuthorizationUnitOfWork
from clearway.platform.ids import new_id
from clearway.platform.ledger import APPLIED
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.clearings")


@dataclass(frozen=True, slots=True)
class ClearResult:
    clearing: Clearing
    created: bool  # False: this clearing id was recorded before


async def clear(
    context: AuthorizationContext, request: ClearingRequest, *, inbox: InboxEntry | None = None
) -> ClearResult | None:
    """From Kafka (`inbox` set) a refusal is logged and the event consumed (None); over HTTP it is the
    caller's problem+json. An authorization still being decided, reversed or expired is a conflict:
    over Kafka it raises, so the event is retried (and dead-lettered if it never settles)."""
    try:
        recorded, created = await record(context, request, inbox=inbox)
    except ConflictError:
        raise
    except AuthorizationError as refusal:
        if inbox is None:
            raise
        logger.warning("clearing refused", clearing_id=request.clearing_id, code=refusal.error_code)
        await _consume(context, inbox)
        return None
    if not recorded.is_pending:
        return ClearResult(recorded, created)
    return ClearResult(await finish(context, recorded), created)


async def _consume(context: AuthorizationContext, inbox: InboxEntry) -> None:
    async with context.unit_of_work() as uow:
        await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.commit()


async def record(
    context: AuthorizationContext, request: ClearingRequest, *, inbox: InboxEntry | None = None
) -> tuple[Clearing, bool]:
    """Step 1: the clearing committed `pending` (its authorization `clearing`), or the row an earlier
    request with the same clearing id left (created False)."""
    async with context.unit_of_work() as uow:
        if inbox is not None:
            await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.clearings.lock_processor_id(request.clearing_id)
        existing = await uow.clearings.get_by_processor_id(request.clearing_id)
        if existing is not None:
            await uow.commit()  # the inbox row, when a redelivery brought it
            return existing, False
        if request.amount_minor <= 0:
            raise RuleViolationError("A clearing is for a positive amount.", code="AMOUNT_INVALID")
        card = await uow.cards.get(request.card_id)
        if card is None:
            raise NotFoundError(f"No card {request.card_id[:64]}.", code="CARD_NOT_FOUND")
        account = await uow.card_accounts.get(card.card_account_id)
        assert account is not None, "a card's account is never deleted"
        if not account.balance_ids:
            raise ConflictError(f"Card account {account.id} is still opening.", code="CARD_ACCOUNT_OPENING")
        if request.currency != account.currency:
            raise RuleViolationError(
                f"The card's account is in {account.currency}, not {request.currency[:8]}.", code="CURRENCY_MISMATCH"
            )
        await uow.cards.lock(request.card_id)
        authorization = await _authorization(uow, request)
        # The fee standing for the transaction: the authorization's and its increments' (each posted apart).
        increments = await uow.authorizations.approved_increments(authorization.id) if authorization else ()
        authorized_fee_minor = (
            authorization.fee_minor + sum(item.fee_minor for item in increments) if authorization is not None else None
        )
        now = context.clock()
        clearing = Clearing(
            id=new_id(CLEARING_ID_PREFIX),
            clearing_id=request.clearing_id,
            authorization_id=request.authorization_id,
            authorization_ref=authorization.id if authorization is not None else None,
            card_id=request.card_id,
            card_account_id=account.id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            merchant_name=request.merchant_name,
            merchant_category_code=request.merchant_category_code,
            cleared_at=request.cleared_at,
            forced=authorization is None,
            status=ClearingStatus.PENDING,
            hold_transaction_id=authorization.hold_transaction_id if authorization is not None else None,
            held_minor=authorization.held_minor if authorization is not None else 0,
            authorized_fee_minor=authorized_fee_minor,
            overdraft_limit_minor=account.credit_limit_minor,
            committed_minor=0,
            difference_minor=0,
            fee_minor=0,
            created_at=now,
            updated_at=now,
        )
        await uow.clearings.add(clearing)
        if authorization is not None:
            await uow.authorizations.update(authorization.clearing_started(now))
        await uow.commit()
    return clearing, True


async def _authorization(uow: AuthorizationUnitOfWork, request: ClearingRequest) -> Authorization | None:
    """The authorization whose open hold this clearing commits (an increment's original when the
    processor names the increment); None: force post (no authorization, one we do not know on this
    card, or one that holds nothing any more)."""
    if request.authorization_id is None:
        return None
    authorization = await uow.authorizations.get_by_processor_id(request.authorization_id, for_update=True)
    if authorization is None or authorization.card_id != request.card_id:
        return None
    if authorization.incremental_of is not None:
        # An increment's id names its original's transaction: the clearing commits the original's
        # combined hold (the original plus every increment), exactly as with the original's id.
        authorization = await uow.authorizations.get(authorization.incremental_of, for_update=True)
        assert authorization is not None, "authorizations are never deleted"
    if authorization.in_progress or authorization.status is AuthorizationStatus.CLEARING:
        raise InProgressError(
            f"Authorization {authorization.id} is {authorization.status.value}; try again.",
            code="AUTHORIZATION_IN_PROGRESS",
        )
    return authorization if authorization.clearable else None


async def finish(context: AuthorizationContext, clearing: Clearing) -> Clearing:
    """Steps 2 and 3 for a `pending` clearing. Safe to repeat: every ledger call is a replay the second time."""
    assert clearing.is_pending, f"{clearing.id} is {clearing.status}"
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(clearing.card_account_id)
    assert account is not None, "card accounts are never deleted"
    plan = clearing.plan
    if clearing.hold_transaction_id is not None:
        if plan.partial:
            await context.ledger.commit_hold(
                clearing.hold_transaction_id,
                reference=postings.clearing_reference(clearing, "commit"),
                amount_minor=plan.committed_minor,
            )
            await context.ledger.void_hold(
                clearing.hold_transaction_id, reference=postings.clearing_reference(clearing, "release")
            )
        else:
            await context.ledger.commit_hold(
                clearing.hold_transaction_id, reference=postings.clearing_reference(clearing, "commit")
            )
    rejected = False
    if plan.posted_minor > 0:
        posted = await context.ledger.post_with_overdraft_limit(
            postings.clearing_posting(clearing, account, plan.posted_minor),
            overdraft_limit_minor=clearing.overdraft_limit_minor,
        )
        rejected = posted.status != APPLIED
        if rejected:
            logger.error(
                "the ledger refused a clearing's amount over the hold",
                clearing_id=clearing.id,
                posted_minor=plan.posted_minor,
                status=posted.status,
                reason=posted.rejection_reason,
            )
    # A force post the ledger refused moved nothing: it carries no fee either.
    fee_minor = 0 if rejected and clearing.forced else await _fee(context, clearing, account)
    async with context.unit_of_work() as uow:
        current = await uow.clearings.get(clearing.id, for_update=True)
        assert current is not None, "clearings are never deleted"
        if not current.is_pending:  # a concurrent retry or the recovery pass finished it first
            return current
        now = context.clock()
        finished = current.finished(rejected=rejected, fee_minor=fee_minor, now=now)
        await uow.clearings.update(finished)
        if finished.authorization_ref is not None:
            authorization = await uow.authorizations.get(finished.authorization_ref, for_update=True)
            assert authorization is not None, "authorizations are never deleted"
            if authorization.status is AuthorizationStatus.CLEARING:
                await uow.authorizations.update(authorization.cleared(now))
        await uow.events.add(event_builders.clearing_posted(finished))
        await uow.commit()
    logger.info(
        "clearing posted",
        clearing_id=finished.id,
        processor_clearing_id=finished.clearing_id,
        status=finished.status,
        forced=finished.forced,
        committed_minor=finished.committed_minor,
        difference_minor=finished.difference_minor,
        fee_minor=finished.fee_minor,
    )
    return finished


async def _fee(context: AuthorizationContext, clearing: Clearing, account: CardAccount) -> int:
    """Seed 7->8: refund the authorization's fee and post the recalculated one when it changed; a force
    post posts its fee. -> the fee standing after the clearing."""
    change = fee_change(clearing.amount_minor, account.terms.fee_markup_bps, clearing.authorized_fee_minor)
    if change.refund_old:
        assert clearing.authorization_ref is not None
        async with context.unit_of_work() as uow:
            increments = await uow.authorizations.approved_increments(clearing.authorization_ref)
        # The authorization's fee and each increment's: every one posted under its own reference.
        for authorization_ref in (clearing.authorization_ref, *(item.id for item in increments if item.fee_minor)):
            refunded = await context.ledger.refund_transaction(
                postings.fee_reference_of(authorization_ref),
                refund_reference=postings.fee_refund_reference(authorization_ref),
            )
            if refunded is None or refunded.status != APPLIED:
                logger.error("a fee was not refunded", clearing_id=clearing.id, authorization_id=authorization_ref)
    if change.post_minor > 0:
        fee = await context.ledger.post(postings.clearing_fee_posting(clearing, account, change.post_minor))
        if fee.status != APPLIED:  # fees payable overdraws without a limit: this is the ledger's fault
            logger.error("clearing fee not posted", clearing_id=clearing.id, status=fee.status)
            return 0
    return change.fee_minor


async def get_clearing(context: AuthorizationContext, clearing_ref: str) -> Clearing:
    """By our id (`ccl_...`), else by the processor's clearing id."""
    async with context.unit_of_work() as uow:
        found = await uow.clearings.get(clearing_ref)
        if found is None:
            found = await uow.clearings.get_by_processor_id(clearing_ref)
    if found is None:
        raise NotFoundError(f"No clearing {clearing_ref[:64]}.", code="CLEARING_NOT_FOUND")
    return found


async def list_clearings(
    context: AuthorizationContext,
    *,
    card_id: str | None,
    clearing_id: str | None,
    starting_after: str | None,
    limit: int,
) -> Sequence[Clearing]:
    async with context.unit_of_work() as uow:
        return await uow.clearings.list(
            card_id=card_id, clearing_id=clearing_id, starting_after=starting_after, limit=limit
        )
