"""Pre-funding: paying an approved payable from the workspace's wallet balance.

Step order, each step safe to repeat (this is what makes a crash anywhere recoverable):
1. intent: the payable moves approved -> paying, attempt n (one transaction);
2. hold: an inflight ledger transaction workspace wallet -> payee wallet, reference
   `funding:payable:<id>:hold:<n>`; the ledger refusing it (insufficient) sends the payable back
   to approved, waiting for funds;
3. commit the hold (reference `...:commit:<n>`), then paying -> paid plus `payable.paid`.
A payable left in `paying` by a crash is resumed by the recovery loop from step 2: the ledger
answers the repeated hold and commit as replays.
"""

from __future__ import annotations

import logging

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.domain.payables import Payable, PayableStatus
from clearway.funding.domain.postings import commit_reference, hold_posting
from clearway.funding.service import event_builders
from clearway.funding.service.context import FundingContext
from clearway.funding.service.ports import LedgerAnswerInvalidError, LedgerRefusedError
from clearway.funding.service.workspaces import existing_workspace_wallet

logger = logging.getLogger(__name__)

HOLD_REJECTED = "REJECTED"
HOLD_OPEN = "INFLIGHT"


async def pay_if_covered(context: FundingContext, payable: Payable) -> Payable:
    """Pay now if the workspace balance covers `payable`; otherwise leave it waiting."""
    if not payable.is_waiting_for_funds:
        return payable
    wallet = await existing_workspace_wallet(context, payable.workspace_id, payable.currency)
    # A cheap look first: a workspace without funds should not litter the ledger with rejected holds.
    if wallet is None or wallet.available_minor < payable.amount_minor:
        return payable
    return await pay_from_balance(context, payable.id)


async def pay_from_balance(context: FundingContext, payable_id: str) -> Payable:
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id, for_update=True)
        assert payable is not None, f"payable {payable_id} vanished"
        if not payable.is_waiting_for_funds:
            return payable  # someone else funded, paid or changed it meanwhile
        paying = payable.start_paying(context.clock())
        await uow.payables.save(paying)
        await uow.commit()
    return await finish_paying(context, paying)


async def finish_paying(context: FundingContext, payable: Payable) -> Payable:
    """Steps 2 and 3 for a payable in `paying`; also what the recovery loop runs."""
    assert payable.status is PayableStatus.PAYING and payable.pay_attempts >= 1
    wallet = await existing_workspace_wallet(context, payable.workspace_id, payable.currency)
    if wallet is None:
        return await _stop_paying(context, payable)
    payee_wallet = await context.ledger.ensure_wallet(payable.payee_id, payable.currency)
    hold = await context.ledger.post(hold_posting(payable, wallet.balance_id, payee_wallet.balance_id))
    if hold.status == HOLD_REJECTED:
        logger.info("payable %s waits for funds: %s", payable.id, hold.rejection_reason)
        return await _stop_paying(context, payable)
    if hold.status != HOLD_OPEN:
        raise LedgerAnswerInvalidError(f"unexpected hold status {hold.status[:32]} for {payable.id}")
    await _record_hold(context, payable, hold.transaction_id)
    reference = commit_reference(payable.id, payable.pay_attempts)
    try:
        await context.ledger.commit_hold(hold.transaction_id, reference=reference)
    except LedgerRefusedError as error:
        if error.status != 409:
            raise
        # Voided meanwhile (by an operator or an expiry): nothing moved, so the payable waits again.
        logger.warning("hold %s for payable %s is no longer open: %s", hold.transaction_id, payable.id, error)
        return await _stop_paying(context, payable)
    return await _mark_paid(context, payable, reference)


async def _current_attempt(uow: SqlFundingUnitOfWork, payable: Payable) -> Payable | None:
    current = await uow.payables.get(payable.id, for_update=True)
    if current is None or current.status is not PayableStatus.PAYING or current.pay_attempts != payable.pay_attempts:
        return None  # another worker already finished this attempt
    return current


async def _record_hold(context: FundingContext, payable: Payable, hold_id: str) -> None:
    async with context.unit_of_work() as uow:
        current = await _current_attempt(uow, payable)
        if current is not None and current.hold_transaction_id != hold_id:
            await uow.payables.save(current.record_hold(hold_id, context.clock()))
            await uow.commit()


async def _stop_paying(context: FundingContext, payable: Payable) -> Payable:
    async with context.unit_of_work() as uow:
        current = await _current_attempt(uow, payable)
        if current is None:
            latest = await uow.payables.get(payable.id)
            assert latest is not None
            return latest
        waiting = current.stop_paying(context.clock())
        await uow.payables.save(waiting)
        await uow.commit()
    return waiting


async def _mark_paid(context: FundingContext, payable: Payable, reference: str) -> Payable:
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await _current_attempt(uow, payable)
        if current is None:
            latest = await uow.payables.get(payable.id)
            assert latest is not None
            return latest
        paid = current.mark_paid(reference, now)
        await uow.payables.save(paid)
        await uow.events.add(event_builders.payable_paid(paid, now))
        await uow.commit()
    return paid


async def pay_waiting(context: FundingContext, workspace_id: str, currency: str) -> int:
    """Pay waiting payables in approval order while the balance covers the next one; returns how many."""
    wallet = await existing_workspace_wallet(context, workspace_id, currency)
    if wallet is None:
        return 0
    async with context.unit_of_work() as uow:
        waiting = await uow.payables.waiting(workspace_id, currency, context.batch_size_max)
    available_minor = wallet.available_minor
    paid = 0
    for payable in waiting:
        # Strict approval order: a later, smaller payable does not overtake an earlier one.
        if payable.amount_minor > available_minor:
            break
        result = await pay_from_balance(context, payable.id)
        if result.status is not PayableStatus.PAID:
            break
        available_minor -= payable.amount_minor
        paid += 1
    return paid


async def resume_paying(context: FundingContext, payable_id: str) -> Payable | None:
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id)
    if payable is None or payable.status is not PayableStatus.PAYING:
        return payable
    return await finish_paying(context, payable)
