"""Authorization use cases (seed 002, steps 2-6): decide a processor's request, read decisions.

Two doors, one decision: `POST /authorizations` and `card.authorization.requested` both call
`authorize`. In three steps, so a crash anywhere leaves something the next attempt finishes:

1. record: under locks on the processor's id and the card, the request is checked (card status ->
   controls -> velocity) and committed `pending`, or `declined` with its decision event;
2. hold: in one ledger round trip, an inflight hold on card primary with the credit limit as its
   overdraft limit and its markup fee are posted all or none (a refused hold carries no fee), under
   references derived from our id (asking again is a replay, never a second hold or fee), and the
   ledger answers with card primary as the hold left it: the available credit;
3. decide: `approved` or `declined insufficient_funds` and the `card.authorization.decided` event
   commit together.

A `pending` row is finished by a retry with the same processor id or by the recovery pass, so a
process killed between the hold and the decision publishes exactly one decision after restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import (
    AUTHORIZATION_ID_PREFIX,
    Authorization,
    AuthorizationRequest,
    Reason,
    markup_fee_minor,
    pending_authorization,
    refusal_before_hold,
)
from clearway.authorization.domain.card_accounts import CARD_PRIMARY, CardAccount
from clearway.authorization.domain.errors import NotFoundError
from clearway.authorization.service import event_builders
from clearway.authorization.service.context import AuthorizationContext
from clearway.authorization.service.ports import AuthorizationUnitOfWork
from clearway.platform.ids import new_id
from clearway.platform.ledger import INFLIGHT, REJECTED, LedgerBalance, LedgerRefusedError, LedgerTransaction
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.authorizations")

DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """The event a Kafka request came in: recorded with the request, so a redelivery is known."""

    consumer: str
    event_id: str
    topic: str


@dataclass(frozen=True, slots=True)
class AuthorizeResult:
    authorization: Authorization
    created: bool  # False: this processor id was decided (or recorded) before


async def authorize(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None = None
) -> AuthorizeResult:
    assert request.incremental_of is None, "increments are `incrementals.authorize_incremental`'s"
    recorded, created, account = await _record(context, request, inbox=inbox)
    if not recorded.is_pending:
        return AuthorizeResult(recorded, created)
    # The account read while recording: its terms and balance ids never change once it is active,
    # so the decision does not read it again (one PostgreSQL round trip less on the HTTP path).
    return AuthorizeResult(await decide(context, recorded, account=account), created)


async def record(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None = None
) -> tuple[Authorization, bool]:
    """Step 1: the request committed `pending`, or `declined` before any hold; or the row an earlier
    request with the same processor id left (created False)."""
    recorded, created, _ = await _record(context, request, inbox=inbox)
    return recorded, created


async def _record(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None
) -> tuple[Authorization, bool, CardAccount | None]:
    async with context.unit_of_work() as uow:
        if inbox is not None:
            await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.authorizations.lock_processor_id(request.authorization_id)
        existing = await uow.authorizations.get_by_processor_id(request.authorization_id)
        if existing is not None:
            await uow.commit()  # the inbox row, when a redelivery brought it
            return existing, False, None
        await uow.cards.lock(request.card_id)
        card = await uow.cards.get(request.card_id)
        account = await uow.card_accounts.get(card.card_account_id) if card is not None else None
        now = context.clock()
        velocity = context.policy.velocity
        activity = await uow.authorizations.activity(
            request.card_id, day_since=now - DAY, window_since=now - timedelta(milliseconds=velocity.window_ms)
        )
        reason = refusal_before_hold(request, card, account, activity, velocity, now)
        authorization = pending_authorization(new_id(AUTHORIZATION_ID_PREFIX), request, account, now)
        if reason is not None:
            authorization = authorization.declined(reason, None, now)
            await uow.authorizations.add(authorization)
            await uow.events.add(event_builders.decided(authorization))
        else:
            await uow.authorizations.add(authorization)
        await uow.commit()
    if reason is not None:
        log_decision(authorization)
    return authorization, True, account


async def decide(
    context: AuthorizationContext, authorization: Authorization, *, account: CardAccount | None = None
) -> Authorization:
    """Steps 2 and 3 for a `pending` authorization: ask for its hold and fee (a replay when asked
    before), commit the decision and its event. Safe to repeat.
    `account`: the authorization's, when the caller has just read it (else it is read here)."""
    assert authorization.is_pending, f"{authorization.id} is {authorization.status}"
    assert authorization.card_account_id is not None and authorization.overdraft_limit_minor is not None
    if account is None:
        async with context.unit_of_work() as uow:
            account = await uow.card_accounts.get(authorization.card_account_id)
    assert account is not None and account.id == authorization.card_account_id, "card accounts are never deleted"
    hold, fee_minor, available_minor = await _place_hold_and_fee(context, authorization, account)
    async with context.unit_of_work() as uow:
        current = await uow.authorizations.get(authorization.id, for_update=True)
        assert current is not None, "authorizations are never deleted"
        if not current.is_pending:  # a concurrent retry or the recovery pass decided it first
            return current
        now = context.clock()
        if hold.status == INFLIGHT:
            decided = current.approved(hold.transaction_id, fee_minor, available_minor, now)
        else:
            decided = current.declined(Reason.INSUFFICIENT_FUNDS, available_minor, now)
        await uow.authorizations.update(decided)
        await uow.events.add(event_builders.decided(decided))
        await uow.commit()
    log_decision(decided, replayed=hold.replayed)
    return decided


async def _place_hold_and_fee(
    context: AuthorizationContext, authorization: Authorization, account: CardAccount
) -> tuple[LedgerTransaction, int, int | None]:
    """Step 2 in one ledger round trip: the hold and its markup fee posted all or none (a refused hold
    carries no fee), answered with card primary as the hold left it. Returns the hold (REJECTED when
    the credit line cannot cover it), the fee posted, and the available credit (None: not known)."""
    assert authorization.overdraft_limit_minor is not None
    hold_posting = postings.hold_posting(authorization, account, authorization.amount_minor, generation=0)
    fee_minor = markup_fee_minor(authorization.amount_minor, account.terms.fee_markup_bps)
    fee_posting = postings.fee_posting(authorization, account, fee_minor) if fee_minor > 0 else None
    answer = await context.ledger.post_atomic(
        [hold_posting] if fee_posting is None else [hold_posting, fee_posting],
        overdraft_limits_minor={hold_posting.reference: authorization.overdraft_limit_minor},
    )
    primary = answer.balances.get(account.balance_id(CARD_PRIMARY))
    if not answer.applied:
        failure = answer.failures[0]
        if failure.index != 0 or failure.code != REJECTED:
            raise LedgerRefusedError(422, failure.code, failure.detail or "the authorization's postings were refused")
        refused = LedgerTransaction(transaction_id="", reference=hold_posting.reference, status=REJECTED)
        return refused, 0, _available_minor(account, primary)
    hold = answer.transactions[0]
    if hold.status != INFLIGHT:
        # A hold refused before holds and fees went out together (an earlier version recorded the
        # refusal): this answer replayed it and posted the fee beside it, which a decline never keeps.
        if fee_posting is not None:
            await context.ledger.refund_transaction(
                fee_posting.reference, refund_reference=postings.fee_refund_reference(authorization.id)
            )
        fee_minor = 0
    if primary is None:  # the hold was a replay, so the ledger did not lock card primary: read it
        primary = await context.ledger.get_balance(account.balance_id(CARD_PRIMARY))
    return hold, fee_minor, _available_minor(account, primary)


def _available_minor(account: CardAccount, primary: LedgerBalance | None) -> int | None:
    if primary is None:
        return None
    return account.credit_limit_minor + primary.balance_minor - primary.inflight_debit_minor


def log_decision(authorization: Authorization, *, replayed: bool = False) -> None:
    logger.info(
        "authorization decided",
        authorization_id=authorization.id,
        processor_authorization_id=authorization.authorization_id,
        card_id=authorization.card_id,
        decision=authorization.decision,
        reason=authorization.reason,
        amount_minor=authorization.amount_minor,
        hold_replayed=replayed,
    )


async def find(uow: AuthorizationUnitOfWork, authorization_id: str, *, for_update: bool = False) -> Authorization:
    """By our id (`cau_...`), else by the processor's id."""
    found = await uow.authorizations.get(authorization_id, for_update=for_update)
    if found is None:
        found = await uow.authorizations.get_by_processor_id(authorization_id, for_update=for_update)
    if found is None:
        raise NotFoundError(f"No authorization {authorization_id[:64]}.", code="AUTHORIZATION_NOT_FOUND")
    return found


async def get_authorization(context: AuthorizationContext, authorization_id: str) -> Authorization:
    async with context.unit_of_work() as uow:
        return await find(uow, authorization_id)


async def list_authorizations(
    context: AuthorizationContext,
    *,
    processor_authorization_id: str | None,
    card_id: str | None,
    starting_after: str | None,
    limit: int,
) -> Sequence[Authorization]:
    async with context.unit_of_work() as uow:
        return await uow.authorizations.list(
            processor_authorization_id=processor_authorization_id,
            card_id=card_id,
            starting_after=starting_after,
            limit=limit,
        )
