"""Paying an approved withdrawal out, and applying what the rail answers.

Mobile money goes to the configured B2C rail (the sandbox or Daraja) with the withdrawal id as
OriginatorConversationID; bank withdrawals join their currency's payout batch (pain.001). Each
outcome is decided once in our database (the row lock orders duplicate and racing callbacks), and
its ledger effect follows with a reference derived from the withdrawal id (`converge`): commit the
hold and move it to the provider's balance, void it, or post the reversal. A crash between the
decision and the ledger leaves `hold_status` behind the decision, and the recovery pass converges
it: no hold outlives its withdrawal, and no outcome moves money twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clearway.payout.domain import postings
from clearway.payout.domain.batches import PAYOUT_BATCH_ID_PREFIX, BatchStatus, PayoutBatch
from clearway.payout.domain.withdrawal_methods import WithdrawalMethod
from clearway.payout.domain.withdrawals import (
    HoldStatus,
    IntentStatus,
    NotPaid,
    PaidOut,
    PayoutOutcome,
    ReversedByProvider,
    StillPending,
    Withdrawal,
    WithdrawalStatus,
)
from clearway.payout.service import event_builders
from clearway.payout.service.context import PayoutContext
from clearway.payout.service.ports import PayoutUnitOfWork
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import (
    B2cAccepted,
    B2cFailed,
    B2cPaymentRequest,
    B2cPending,
    B2cReversed,
    B2cStatus,
    B2cSucceeded,
    InvalidPhoneNumber,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)

logger = get_logger("clearway.payout.payouts")

PAYOUT_REMARKS = "Wallet withdrawal"
BANK_ACCOUNT = "bank_account"


async def execute(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    """Hand an approved withdrawal to its rail. Safe to repeat: the rail dedupes by our id."""
    if withdrawal.status is not WithdrawalStatus.APPROVED:
        return withdrawal
    if withdrawal.method_type == BANK_ACCOUNT:
        return await _add_to_batch(context, withdrawal)
    return await _submit_mobile_money(context, withdrawal)


async def masked_account(uow: PayoutUnitOfWork, withdrawal: Withdrawal) -> str | None:
    if withdrawal.withdrawal_method_id is None:
        return None
    method = await uow.methods.get(withdrawal.withdrawal_method_id)
    return method.account_number_masked if method is not None else None


async def _method(context: PayoutContext, withdrawal: Withdrawal) -> WithdrawalMethod:
    assert withdrawal.withdrawal_method_id is not None and withdrawal.provider_reference is not None
    async with context.unit_of_work() as uow:
        method = await uow.methods.get(withdrawal.withdrawal_method_id)
    assert method is not None, "a withdrawal's method is deactivated, never deleted"
    return method


async def _pay(context: PayoutContext, withdrawal: Withdrawal, method: WithdrawalMethod) -> B2cAccepted:
    """One B2C call under the withdrawal's own id (OriginatorConversationID)."""
    assert withdrawal.provider_reference is not None
    request = B2cPaymentRequest.create(
        phone=method.account_number,
        amount_minor=withdrawal.amount_minor,
        currency=withdrawal.currency,
        originator_conversation_id=withdrawal.provider_reference,
        remarks=PAYOUT_REMARKS,
    )
    return await context.mobile_money.pay(request)


async def _submit_mobile_money(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    method = await _method(context, withdrawal)
    log = logger.bind(withdrawal_id=withdrawal.id, account=method.account_number_masked, provider=withdrawal.provider)
    conversation_id: str | None = None
    try:
        accepted = await _pay(context, withdrawal, method)
        conversation_id = accepted.conversation_id
    except (ProviderRejected, InvalidPhoneNumber, ValueError) as error:
        log.warning("payout refused by the rail", error=type(error).__name__)
        code = getattr(error, "code", "PROVIDER_REJECTED")
        return await apply_outcome(context, withdrawal.id, NotPaid(code, str(error)), resolved_by="submission")
    except ProviderUnavailable:
        # Nothing was sent, or we cannot tell: the recovery pass submits again with the same id.
        log.warning("payout rail unavailable; the recovery pass will submit again")
        return withdrawal
    except ProviderError:
        # Sent, answer lost: never send twice blindly; the status query settles it.
        log.warning("payout submission outcome unknown; a status query will settle it")
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None
        if current.status is not WithdrawalStatus.APPROVED:  # its callback was faster than this commit
            return current
        next_check = now + timedelta(milliseconds=context.policy.status_query_after_ms)
        submitted = current.submitted(now, conversation_id=conversation_id, next_status_check_at=next_check)
        await uow.withdrawals.update(submitted)
        await uow.events.add(event_builders.submitted(submitted, method.account_number_masked, now))
        await uow.commit()
    log.info("payout submitted", conversation_id=conversation_id)
    return submitted


async def resubmit(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    """Send a `processing` payout again under the same id, after a status query learned that the
    rail holds no payment under it (`B2cPaymentUnknown`): the submission never arrived, or the rail
    lost it (the in-process sandbox dies with a killed payout process). No callback will come for
    it and every later query would say the same, so without this its hold would never be settled.
    The same OriginatorConversationID cannot pay twice: a rail that does hold it refuses the duplicate."""
    if withdrawal.status is not WithdrawalStatus.PROCESSING or withdrawal.method_type == BANK_ACCOUNT:
        return withdrawal
    method = await _method(context, withdrawal)
    log = logger.bind(withdrawal_id=withdrawal.id, account=method.account_number_masked, provider=withdrawal.provider)
    try:
        accepted = await _pay(context, withdrawal, method)
    except (ProviderRejected, InvalidPhoneNumber, ValueError) as error:
        # The rail holds no payment under this id and refuses this one: nothing was paid.
        log.warning("payout refused by the rail when sent again", error=type(error).__name__)
        code = getattr(error, "code", "PROVIDER_REJECTED")
        return await apply_outcome(context, withdrawal.id, NotPaid(code, str(error)), resolved_by="resubmission")
    except ProviderError as error:
        # Unavailable, answer lost, or a duplicate (the first got through after all): the next
        # status query asks again.
        log.warning("payout not sent again; the next status query asks again", error=type(error).__name__)
        return withdrawal
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None
        if current.status is not WithdrawalStatus.PROCESSING:  # its callback was faster than this commit
            return current
        next_check = now + timedelta(milliseconds=context.policy.status_query_after_ms)
        resent = current.resubmitted(now, conversation_id=accepted.conversation_id, next_status_check_at=next_check)
        await uow.withdrawals.update(resent)
        await uow.commit()
    log.info("payout unknown to the rail, submitted again", conversation_id=accepted.conversation_id)
    return resent


def outcome_of(status: B2cStatus) -> PayoutOutcome:
    """A rail's answer in the domain's terms."""
    if isinstance(status, B2cSucceeded):
        return PaidOut(receipt=status.receipt)
    if isinstance(status, B2cReversed):
        return ReversedByProvider(receipt=status.receipt, reason=status.description)
    if isinstance(status, B2cFailed):
        return NotPaid(code=f"PROVIDER_{status.result_code.value}", reason=status.description)
    assert isinstance(status, B2cPending)
    return StillPending()


async def _add_to_batch(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None
        if current.status is not WithdrawalStatus.APPROVED:
            return current
        fresh = PayoutBatch(
            id=new_id(PAYOUT_BATCH_ID_PREFIX),
            currency=current.currency,
            status=BatchStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        batch = await uow.batches.open_batch(current.currency, fresh)
        batched = current.batched(batch.id, now)
        await uow.withdrawals.update(batched)
        await uow.events.add(event_builders.submitted(batched, await masked_account(uow, batched), now))
        await uow.commit()
    logger.info("bank payout batched", withdrawal_id=withdrawal.id, batch_id=batch.id)
    return batched


async def apply_outcome(
    context: PayoutContext, withdrawal_id: str, outcome: PayoutOutcome, *, resolved_by: str
) -> Withdrawal:
    """Decide the withdrawal's outcome from a rail answer (callback, status query, bank file), then
    converge the ledger. A repeated or late answer for a decided withdrawal changes nothing."""
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal_id, for_update=True)
        if current is None:
            raise LookupError(withdrawal_id)
        decided = await _decide(uow, current, outcome, now)
        if decided is not current:
            await uow.withdrawals.update(decided)
            await uow.commit()
    if decided is not current:
        logger.info(
            "payout outcome",
            withdrawal_id=withdrawal_id,
            status=decided.status.value,
            resolved_by=resolved_by,
            receipt=decided.receipt,
        )
    elif not isinstance(outcome, StillPending):
        logger.info(
            "payout answer changes nothing",
            withdrawal_id=withdrawal_id,
            current=current.status.value,
            answer=type(outcome).__name__,
            resolved_by=resolved_by,
        )
    return await converge(context, decided)


async def _decide(uow: PayoutUnitOfWork, current: Withdrawal, outcome: PayoutOutcome, now: datetime) -> Withdrawal:
    open_statuses = (WithdrawalStatus.APPROVED, WithdrawalStatus.PROCESSING)
    masked = await masked_account(uow, current)
    intent = await uow.withdrawals.intent(current.payment_intent_id)
    if isinstance(outcome, PaidOut | ReversedByProvider) and current.status in open_statuses:
        decided = current.succeeded(outcome.receipt, now)
        await uow.withdrawals.update_intent(intent.settled(IntentStatus.SUCCEEDED, now, receipt=outcome.receipt))
        if decided.withdrawal_method_id is not None:
            method = await uow.methods.get(decided.withdrawal_method_id, for_update=True)
            if method is not None and not method.verified:
                await uow.methods.update(method.marked_verified(now))
        await uow.events.add(event_builders.succeeded(decided, masked, now))
        current = decided
    if isinstance(outcome, ReversedByProvider) and current.status is WithdrawalStatus.SUCCEEDED:
        decided = current.reversed(outcome.reason, now)
        await uow.events.add(event_builders.reversed_(decided, masked, now))
        return decided
    if isinstance(outcome, NotPaid) and current.status in open_statuses:
        decided = current.failed(outcome.code, outcome.reason, now)
        await uow.withdrawals.update_intent(intent.settled(IntentStatus.FAILED, now))
        await uow.events.add(event_builders.failed(decided, masked, now))
        return decided
    return current


async def converge(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    """Bring the ledger to where the withdrawal's decision puts it; each step is a replay if done."""
    due = withdrawal.hold_due()
    if due is None:
        return withdrawal
    assert withdrawal.hold_transaction_id is not None, "a placed hold has an id"
    reached = withdrawal.hold_status
    if due is HoldStatus.VOIDED:
        await context.ledger.void_hold(withdrawal.hold_transaction_id, reference=postings.void_reference(withdrawal.id))
        reached = HoldStatus.VOIDED
    else:
        if reached is HoldStatus.INFLIGHT:
            await context.ledger.commit_hold(
                withdrawal.hold_transaction_id, reference=postings.commit_reference(withdrawal.id)
            )
            await context.ledger.post(postings.settlement_posting(withdrawal))
            reached = HoldStatus.COMMITTED
        if due is HoldStatus.REVERSED:
            wallet = await context.ledger.find_wallet(withdrawal.user_id, withdrawal.currency)
            assert wallet is not None, "a wallet that held a reservation exists"
            await context.ledger.post(postings.reversal_posting(withdrawal, wallet.balance_id))
            reached = HoldStatus.REVERSED
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None
        if current.hold_status is not reached:
            current = current.hold_settled(reached, context.clock())
            await uow.withdrawals.update(current)
            await uow.commit()
    logger.info("payout ledger converged", withdrawal_id=withdrawal.id, hold_status=reached.value)
    return current
