"""Incremental authorizations: the processor asks to raise an approved authorization's hold (a hotel
stay extended, a car rental kept longer, a tip added), as Visa and Mastercard incremental
authorizations do. The request is `card.authorization.requested` (or `POST /authorizations`) with
`incremental_of` = the original's processor id, its own `authorization_id` and `amount_minor` the
increment. It is decided like any authorization (card status -> controls -> velocity -> the ledger)
and answered, idempotently by its own id, with its own `card.authorization.decided`.

The ledger cannot grow a hold, so an approved increment replaces the original's hold with a larger
one: `authorization:<original>:raise:<increment>` (held + increment) is placed first, then the old
one is voided (`authorization:<original>:void:<generation>`) and the original moves to the next
generation. The larger hold is asked for with the credit limit plus what the
old hold holds as its overdraft limit: while both are inflight that is exactly the room the increment
needs, so the ledger's limit check is the real one and nothing else ever sees room that is not there.
A refused increment never touched the old hold: the original stands as it was.

Crash safety as for a decision: the increment is committed `pending` with its original `raising`
(no reversal, clearing, expiry or other increment touches it meanwhile), the ledger calls carry
deterministic references (asking again is a replay), and the increment's decision, the raised
original and the event commit together. The recovery pass finishes a `pending` increment.
"""

from __future__ import annotations

from datetime import timedelta

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import (
    AUTHORIZATION_ID_PREFIX,
    Authorization,
    AuthorizationRequest,
    AuthorizationStatus,
    Reason,
    markup_fee_minor,
    pending_authorization,
    refusal_before_hold,
)
from clearway.authorization.domain.card_accounts import CARD_PRIMARY
from clearway.authorization.domain.errors import InProgressError
from clearway.authorization.service import event_builders
from clearway.authorization.service.authorizations import DAY, AuthorizeResult, InboxEntry, log_decision
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.ids import new_id
from clearway.platform.ledger import APPLIED, INFLIGHT
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.incrementals")


async def authorize_incremental(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None = None
) -> AuthorizeResult:
    assert request.incremental_of is not None, request.authorization_id
    recorded, created = await record(context, request, inbox=inbox)
    if not recorded.is_pending:
        return AuthorizeResult(recorded, created)
    return AuthorizeResult(await decide(context, recorded), created)


def _refusal(
    request: AuthorizationRequest, original: Authorization | None, per_transaction_max: int | None
) -> Reason | None:
    """What only an increment can be refused for; the original being busy is a conflict (retry)."""
    if original is None or original.card_id != request.card_id or original.incremental_of is not None:
        return Reason.INVALID_REQUEST  # unknown here, another card's, or itself an increment
    if original.in_progress or original.status is AuthorizationStatus.CLEARING:
        raise InProgressError(
            f"Authorization {original.id} is {original.status.value}; try the increment again.",
            code="AUTHORIZATION_IN_PROGRESS",
        )
    if not original.clearable:
        return Reason.INVALID_REQUEST  # declined, reversed, cleared or expired: nothing is held to raise
    if per_transaction_max is not None and original.amount_minor + request.amount_minor > per_transaction_max:
        return Reason.CONTROL_VIOLATION  # the transaction as raised is over the card's per-transaction max
    return None


async def record(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None = None
) -> tuple[Authorization, bool]:
    """The increment committed `pending` (its original `raising`), or `declined` before any ledger call;
    or the row an earlier request with the same processor id left (created False)."""
    assert request.incremental_of is not None, request.authorization_id
    async with context.unit_of_work() as uow:
        if inbox is not None:
            await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.authorizations.lock_processor_id(request.authorization_id)
        existing = await uow.authorizations.get_by_processor_id(request.authorization_id)
        if existing is not None:
            await uow.commit()  # the inbox row, when a redelivery brought it
            return existing, False
        await uow.cards.lock(request.card_id)
        card = await uow.cards.get(request.card_id)
        account = await uow.card_accounts.get(card.card_account_id) if card is not None else None
        original = await uow.authorizations.get_by_processor_id(request.incremental_of, for_update=True)
        now = context.clock()
        velocity = context.policy.velocity
        activity = await uow.authorizations.activity(
            request.card_id, day_since=now - DAY, window_since=now - timedelta(milliseconds=velocity.window_ms)
        )
        reason = refusal_before_hold(request, card, account, activity, velocity, now)
        if reason is None:
            assert card is not None
            reason = _refusal(request, original, card.controls.per_transaction_max_minor)
        increment = pending_authorization(
            new_id(AUTHORIZATION_ID_PREFIX),
            request,
            account,
            now,
            incremental_of=original.id
            if original is not None and reason is not Reason.INVALID_REQUEST and original.card_id == request.card_id
            else None,
        )
        if reason is not None:
            increment = increment.declined(reason, None, now)
            await uow.authorizations.add(increment)
            await uow.events.add(event_builders.decided(increment))
        else:
            assert original is not None
            await uow.authorizations.add(increment)
            await uow.authorizations.update(original.raise_started(now))
        await uow.commit()
    if reason is not None:
        log_decision(increment)
    return increment, True


async def decide(context: AuthorizationContext, increment: Authorization) -> Authorization:
    """Place the larger hold, void the old one, post the increment's fee, commit. Safe to repeat."""
    assert increment.is_pending and increment.incremental_of is not None, increment.id
    assert increment.card_account_id is not None
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(increment.card_account_id)
        original = await uow.authorizations.get(increment.incremental_of)
    assert account is not None and original is not None, "accounts and authorizations are never deleted"
    assert original.hold_transaction_id is not None and original.overdraft_limit_minor is not None, original.id
    if original.status is not AuthorizationStatus.RAISING:
        # Only this increment's decision moves the original out of `raising`, in the same commit: a
        # concurrent attempt decided it meanwhile; a stored row saying otherwise is reported, not trusted.
        async with context.unit_of_work() as uow:
            current = await uow.authorizations.get(increment.id)
        assert current is not None, "authorizations are never deleted"
        if current.is_pending:
            logger.error("a pending increment whose original is not raising", authorization_id=increment.id)
        return current
    hold = await context.ledger.post_with_overdraft_limit(
        postings.raise_posting(original, increment, account),
        overdraft_limit_minor=original.overdraft_limit_minor + original.held_minor,
    )
    fee_minor = 0
    if hold.status == INFLIGHT:
        await context.ledger.void_hold(original.hold_transaction_id, reference=postings.void_reference(original))
        fee_minor = markup_fee_minor(increment.amount_minor, account.terms.fee_markup_bps)
        if fee_minor > 0:
            fee = await context.ledger.post(postings.fee_posting(increment, account, fee_minor))
            if fee.status != APPLIED:  # fees payable overdraws without a limit: this is the ledger's fault
                logger.error("increment fee not posted", authorization_id=increment.id, status=fee.status)
                fee_minor = 0
    primary = await context.ledger.get_balance(account.balance_id(CARD_PRIMARY))
    available_minor = (
        None if primary is None else account.credit_limit_minor + primary.balance_minor - primary.inflight_debit_minor
    )
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(increment.id, for_update=True)
        raising = await uow.authorizations.get(original.id, for_update=True)
        assert current is not None and raising is not None, "authorizations are never deleted"
        if not current.is_pending:  # a concurrent retry or the recovery pass decided it first
            return current
        now = context.clock()
        if hold.status == INFLIGHT:
            decided = current.approved(hold.transaction_id, fee_minor, available_minor, now)
            await uow.authorizations.update(raising.raised(increment.amount_minor, hold.transaction_id, now))
        else:
            decided = current.declined(Reason.INSUFFICIENT_FUNDS, available_minor, now)
            await uow.authorizations.update(raising.raise_refused(now))
        await uow.authorizations.update(decided)
        await uow.events.add(event_builders.decided(decided))
        await uow.commit()
    log_decision(decided, replayed=hold.replayed)
    return decided
