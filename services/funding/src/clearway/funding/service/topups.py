"""Top-up use cases: start a top-up (STK push), settle it from the provider's answer, read it back.

Provider and ledger calls never run inside a database transaction: the intent is committed
before the push (so a crash leaves a record to reconcile, never a prompt we forgot), and the
ledger credit is posted before the intent is marked succeeded, with a deterministic reference
(`topup:<id>`), so a retry, a duplicate callback or a crash between the two is a ledger replay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from clearway.funding.domain import topups as domain
from clearway.funding.domain.errors import IdempotencyKeyReusedError
from clearway.funding.domain.postings import topup_credit_posting
from clearway.funding.domain.topup_errors import (
    CallbackInvalidError,
    CallbackRejectedError,
    ConflictingOutcomeError,
    ProviderReferenceConflictError,
    TopupLedgerRefusedError,
    TopupLedgerUnavailableError,
    TopupNotFoundError,
    TopupRefusedError,
    UnknownCheckoutError,
)
from clearway.funding.domain.topups import (
    TOPUP_ID_PREFIX,
    Delivery,
    ProviderOutcome,
    ResolvedBy,
    StartTopup,
    Topup,
    TopupPolicy,
    TopupStatus,
)
from clearway.funding.service import event_builders, workspaces
from clearway.funding.service.context import FundingContext
from clearway.funding.service.ports import LedgerAnswerInvalidError, LedgerRefusedError, LedgerUnavailableError
from clearway.funding.service.topup_outcomes import outcome_of_callback
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import (
    CallbackInvalid,
    CallbackRejected,
    InvalidPhoneNumber,
    InvalidStkPushRequest,
    MobileMoneyProvider,
    ProviderError,
    StkPushOutcomeUnknown,
    StkPushRequest,
    callback_fingerprint,
    mask_phone,
    normalise_phone,
)

logger = get_logger("clearway.funding.topups")

PUSH_DESCRIPTION = "Wallet top-up"
APPLIED = "APPLIED"
# What the top-up routes have always answered when the ledger fails them.
LEDGER_UNAVAILABLE_DETAIL = "The ledger is unavailable; retry later."
LEDGER_REFUSED_DETAIL = "The ledger refused the posting."
CALLBACK_REJECTED_DETAIL = "The callback token is not valid."


@dataclass(frozen=True, slots=True)
class TopupRequest:
    """What a client asks for, before validation (the phone as typed, the currency maybe omitted)."""

    workspace_id: str
    identity_id: str | None  # None: the workspace's own wallet
    amount_minor: int
    currency: str | None
    phone_number: str
    idempotency_key: str
    user_id: str | None = None  # the end user starting it (their token's `sub`); None for API keys


@dataclass(frozen=True, slots=True)
class StartResult:
    topup: Topup
    created: bool  # False: an earlier request with the same key made it


async def start_topup(context: FundingContext, request: TopupRequest) -> StartResult:
    provider = context.mobile_money_provider()
    command = _validated(context.topup_policy, request, await _wallet_owner(context, request))
    async with context.unit_of_work() as uow:
        existing = await uow.topups.get_by_idempotency_key(command.workspace_id, command.idempotency_key)
    if existing is not None:
        return StartResult(_same_request_or_refuse(command, existing), created=False)
    topup_id = new_id(TOPUP_ID_PREFIX)
    push = _push_request(command, topup_id)  # refuses a bad request before anything is stored
    # Before the phone is prompted: money collected for a wallet that cannot exist would be stuck.
    wallet_balance_id = await _ensure_wallet(context, command.identity_id, command.currency)
    now = context.clock()
    topup = domain.new_topup(
        command,
        topup_id=topup_id,
        wallet_balance_id=wallet_balance_id,
        provider=provider.name,
        now=now,
        first_status_check_at=now + timedelta(milliseconds=context.topup_policy.status_query_after_ms),
    )
    async with context.unit_of_work() as uow:
        if not await uow.topups.add(topup):
            raced = await uow.topups.get_by_idempotency_key(command.workspace_id, command.idempotency_key)
            assert raced is not None, "the unique key that refused the insert names a row"
            return StartResult(_same_request_or_refuse(command, raced), created=False)
        await uow.commit()
    return StartResult(await _push(context, provider, topup, push), created=True)


@contextlib.contextmanager
def _ledger_failures() -> Iterator[None]:
    """The ledger port's failures as the top-up errors clients have always been answered."""
    try:
        yield
    except LedgerUnavailableError as error:
        raise TopupLedgerUnavailableError(LEDGER_UNAVAILABLE_DETAIL) from error
    except LedgerRefusedError as error:
        raise TopupLedgerRefusedError(LEDGER_REFUSED_DETAIL) from error


async def _wallet_owner(context: FundingContext, request: TopupRequest) -> str:
    if request.user_id is not None:
        return domain.wallet_owner_for_user(request.user_id, request.identity_id)
    if request.identity_id is not None:
        return request.identity_id
    with _ledger_failures():
        return await workspaces.workspace_identity(context, request.workspace_id)


async def _ensure_wallet(context: FundingContext, identity_id: str, currency: str) -> str:
    """The balance id of `wallet:<identity_id>` in `currency`, created on first use."""
    with _ledger_failures():
        try:
            balance = await context.ledger.ensure_wallet(identity_id, currency)
        except LedgerRefusedError as error:
            if error.status != 404:
                raise
            # Without a ledger id the wallet lives in the general ledger, so a 404 names the identity.
            message = f"The ledger has no identity {identity_id}."
            raise TopupRefusedError(message, code="WALLET_OWNER_UNKNOWN") from error
        if balance.currency != currency:
            raise LedgerAnswerInvalidError(f"asked for a {currency} wallet, the ledger answered {balance.currency[:8]}")
    return balance.balance_id


def _validated(policy: TopupPolicy, request: TopupRequest, identity_id: str) -> StartTopup:
    currency = (request.currency or policy.default_currency).upper()
    if currency not in policy.currencies:
        raise TopupRefusedError(
            f"{currency[:8]} top-ups are not supported; supported: {', '.join(sorted(policy.currencies))}",
            code="CURRENCY_NOT_SUPPORTED",
        )
    try:
        phone = normalise_phone(request.phone_number, default_region=policy.phone_default_region)
    except InvalidPhoneNumber as error:
        raise TopupRefusedError(error.message, code=error.code) from error
    if request.amount_minor <= 0:
        raise TopupRefusedError("amount_minor must be positive", code="INVALID_AMOUNT")
    return StartTopup(
        workspace_id=request.workspace_id,
        identity_id=identity_id,
        amount_minor=request.amount_minor,
        currency=currency,
        phone=phone,
        idempotency_key=domain.scoped_idempotency_key(request.user_id, request.idempotency_key),
    )


def _push_request(command: StartTopup, topup_id: str) -> StkPushRequest:
    try:
        return StkPushRequest(
            phone=command.phone,
            amount_minor=command.amount_minor,
            currency=command.currency,
            account_reference=domain.account_reference_for(topup_id),
            description=PUSH_DESCRIPTION,
        )
    except InvalidStkPushRequest as error:
        raise TopupRefusedError(error.message, code=error.code) from error


def _same_request_or_refuse(command: StartTopup, existing: Topup) -> Topup:
    if not command.same_request_as(existing):
        raise IdempotencyKeyReusedError("This Idempotency-Key was already used for a different top-up.")
    return existing


async def _push(context: FundingContext, provider: MobileMoneyProvider, topup: Topup, push: StkPushRequest) -> Topup:
    log = logger.bind(topup_id=topup.id, phone=mask_phone(topup.phone), provider=topup.provider)
    try:
        accepted = await provider.initiate_stk_push(push)
    except StkPushOutcomeUnknown:
        # Never resend: a second prompt could take the money twice. Pending until reconciled.
        log.warning("stk push outcome unknown; top-up stays pending for reconciliation")
        return topup
    except InvalidStkPushRequest as error:
        await _refuse_push(context, topup, error)
        raise TopupRefusedError(error.message, code=error.code) from error
    except ProviderError as error:
        log.warning("stk push refused", error_code=error.code, provider_code=error.provider_code)
        return await _refuse_push(context, topup, error)
    try:
        async with context.unit_of_work() as uow:
            current = await uow.topups.get_for_update(topup.id)
            assert current is not None
            now = context.clock()  # inside the transaction that writes it
            accepted_topup = domain.push_accepted(
                current,
                checkout_request_id=accepted.checkout_request_id,
                merchant_request_id=accepted.merchant_request_id,
                now=now,
                first_status_check_at=now + timedelta(milliseconds=context.topup_policy.status_query_after_ms),
            )
            await uow.topups.update(accepted_topup)
            await uow.commit()
    except ProviderReferenceConflictError:
        # The customer may still be prompted; the intent stays pending for reconciliation by hand.
        log.error(
            "provider request id already held by another top-up; reconcile by hand",
            checkout_request_id=accepted.checkout_request_id,
        )
        raise
    log.info("stk push accepted", checkout_request_id=accepted.checkout_request_id)
    return accepted_topup


async def _refuse_push(context: FundingContext, topup: Topup, error: ProviderError) -> Topup:
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.topups.get_for_update(topup.id)
        assert current is not None
        failed = domain.push_refused(
            current, failure_reason=error.code.lower(), result_desc=error.message[:500], now=now
        )
        await uow.topups.update(failed)
        await uow.events.add(event_builders.topup_failed(failed, now))
        await uow.commit()
    return failed


async def get_topup(context: FundingContext, topup_id: str, *, workspace_id: str, user_id: str | None = None) -> Topup:
    """`user_id`: an end user reading, who sees only top-ups of their own wallet."""
    async with context.unit_of_work() as uow:
        topup = await uow.topups.get(topup_id)
    # Another workspace's (or user's) top-up is answered like a missing one: ids reveal nothing.
    if topup is None or topup.workspace_id != workspace_id or not domain.owned_by(topup, user_id):
        raise TopupNotFoundError(f"No top-up {topup_id}.")
    return topup


async def handle_callback(
    context: FundingContext, token: str | None, body: bytes, headers: Mapping[str, str]
) -> Delivery | None:
    """Verify, parse and apply a callback; None when it reports "still processing" (nothing to do).

    Raises CallbackRejectedError (401), CallbackInvalidError (400), UnknownCheckoutError (404),
    ConflictingOutcomeError (409).
    """
    provider = context.mobile_money_provider()
    try:
        provider.verify_callback_token(token)
        callback = provider.parse_callback(body, headers)
    except CallbackRejected as error:
        raise CallbackRejectedError(CALLBACK_REJECTED_DETAIL, code=error.code) from error
    except CallbackInvalid as error:
        raise CallbackInvalidError(error.message, code=error.code) from error
    if not callback.result_code.is_final:
        logger.info("callback reports the push still processing", checkout_request_id=callback.checkout_request_id)
        return None
    return await apply_outcome(
        context,
        callback.checkout_request_id,
        outcome_of_callback(callback),
        resolved_by=ResolvedBy.CALLBACK,
        fingerprint=callback_fingerprint(callback),
    )


async def apply_outcome(
    context: FundingContext,
    checkout_request_id: str,
    outcome: ProviderOutcome,
    *,
    resolved_by: ResolvedBy,
    fingerprint: str | None = None,
) -> Delivery:
    """Settle the intent once; an answer that agrees with the record is acknowledged without effect."""
    async with context.unit_of_work() as uow:
        topup = await uow.topups.get_by_checkout_request_id(checkout_request_id, for_update=False)
    if topup is None:
        raise UnknownCheckoutError(f"No top-up with CheckoutRequestID {checkout_request_id[:128]}.")
    delivery = domain.classify(topup, outcome)
    if delivery is not Delivery.APPLY:
        return _acknowledge(topup, outcome, delivery, resolved_by)
    ledger_transaction_id = await _credit(context, topup) if outcome.succeeded else None
    async with context.unit_of_work() as uow:
        current = await uow.topups.get_by_checkout_request_id(checkout_request_id, for_update=True)
        assert current is not None
        delivery = domain.classify(current, outcome)
        if delivery is not Delivery.APPLY:
            # Another delivery settled it while we posted; our credit was a replay of its own.
            return _acknowledge(current, outcome, delivery, resolved_by, credited=outcome.succeeded)
        now = context.clock()
        settled = domain.settle(
            current,
            outcome,
            resolved_by=resolved_by,
            now=now,
            ledger_transaction_id=ledger_transaction_id,
            callback_fingerprint=fingerprint,
        )
        await uow.topups.update(settled)
        if settled.status is TopupStatus.SUCCEEDED:
            await uow.events.add(event_builders.topup_succeeded(settled, now))
        else:
            await uow.events.add(event_builders.topup_failed(settled, now))
        await uow.commit()
    logger.info(
        "top-up settled",
        topup_id=settled.id,
        status=settled.status.value,
        result_code=settled.result_code,
        resolved_by=resolved_by.value,
    )
    return Delivery.APPLY


async def _credit(context: FundingContext, topup: Topup) -> str:
    """Post the credit (a replay of the same reference is the same transaction); -> its transaction id.

    The ledger client retries network errors and 5xx a bounded number of times; the fixed
    reference makes the ledger answer a repeat with the original transaction, never a second one.
    """
    posting = topup_credit_posting(topup)
    with _ledger_failures():
        transaction = await context.ledger.post(posting)
    if transaction.status != APPLIED:
        logger.error(
            "the ledger did not apply a top-up credit",
            reference=posting.reference,
            status=transaction.status,
            rejection_reason=transaction.rejection_reason,
        )
        raise TopupLedgerRefusedError(LEDGER_REFUSED_DETAIL)
    logger.info(
        "wallet credited",
        reference=posting.reference,
        transaction_id=transaction.transaction_id,
        replayed=transaction.replayed,
    )
    return transaction.transaction_id


def _acknowledge(
    topup: Topup, outcome: ProviderOutcome, delivery: Delivery, resolved_by: ResolvedBy, *, credited: bool = False
) -> Delivery:
    if delivery is Delivery.DUPLICATE:
        logger.info("duplicate provider answer ignored", topup_id=topup.id, resolved_by=resolved_by.value)
        return delivery
    assert delivery is Delivery.CONFLICTING
    logger.error(
        "provider answer contradicts the recorded outcome; reconcile by hand",
        topup_id=topup.id,
        recorded_status=topup.status.value,
        recorded_result_code=topup.result_code,
        reported_result_code=outcome.result_code,
        reported_amount_minor=outcome.amount_minor,
        wallet_credited_by_this_answer=credited and topup.status is not TopupStatus.SUCCEEDED,
    )
    raise ConflictingOutcomeError(f"Top-up {topup.id} is already {topup.status.value} with another outcome.")
