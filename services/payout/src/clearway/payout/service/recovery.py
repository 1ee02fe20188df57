"""The recovery pass: one bounded sweep that finishes what requests, callbacks or a crash left.

- a withdrawal still `reserving` after the grace period: its request died between the ledger hold
  and our commit; asking for the same hold again adopts it (or learns it was refused);
- an approved mobile-money withdrawal never handed to its rail: submitted again with the same id;
- a paid payable's withdrawal waiting under the auto-approval amount: approved;
- a submitted payout whose result has not come: its status is asked for (timeouts, lost callbacks),
  and sent again under the same id when the rail holds no payment under it (the process was
  killed with the payout in flight and the rail lost it, or it never arrived);
- a decided withdrawal whose ledger effect did not happen: converged.
Every step is a replay when it already happened, so running the pass twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from clearway.payout.domain.approvals import SYSTEM_ACTOR
from clearway.payout.domain.errors import BusinessRuleError
from clearway.payout.domain.withdrawals import Origin, Withdrawal, WithdrawalStatus
from clearway.payout.service import approvals, payouts, withdrawals
from clearway.payout.service.context import PayoutContext
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import B2cPaymentUnknown, ProviderError

logger = get_logger("clearway.payout.recovery")


async def recover_once(context: PayoutContext) -> int:
    """-> how many withdrawals the pass moved on."""
    policy = context.policy
    now = context.clock()
    limit = policy.batch_size_max
    moved = 0
    async with context.unit_of_work() as uow:
        reserving = await uow.withdrawals.reserving_older_than(
            now - timedelta(milliseconds=policy.reservation_grace_ms), limit
        )
        unsubmitted = await uow.withdrawals.approved_unsubmitted_older_than(
            now - timedelta(milliseconds=policy.submission_grace_ms), limit
        )
        ledger_due = await uow.withdrawals.with_ledger_due(
            now - timedelta(milliseconds=policy.reservation_grace_ms), limit
        )
    moved += await _each(reserving, lambda w: _finish_reservation(context, w))
    moved += await _each(unsubmitted, lambda w: payouts.execute(context, w))
    moved += await _each(ledger_due, lambda w: payouts.converge(context, w))
    moved += await query_due_statuses(context)
    return moved


async def _finish_reservation(context: PayoutContext, withdrawal: Withdrawal) -> object:
    try:
        result = await withdrawals.reserve(context, withdrawal)
    except BusinessRuleError:
        return None  # refused: `reserve` removed it
    if result.withdrawal.origin is Origin.PAYABLE:
        await auto_approve_if_allowed(context, result.withdrawal)
    return result


async def auto_approve_if_allowed(context: PayoutContext, withdrawal: Withdrawal) -> Withdrawal:
    if withdrawal.status is not WithdrawalStatus.PENDING_APPROVAL or withdrawal.origin is not Origin.PAYABLE:
        return withdrawal
    async with context.unit_of_work() as uow:
        limits = (await uow.settings.limits()).get(withdrawal.currency)
    if limits is None or withdrawal.amount_minor > limits.auto_approve_max_minor:
        return withdrawal  # above the amount: dual approval, as for a user's withdrawal
    return await approvals.approve_automatically(context, withdrawal, SYSTEM_ACTOR)


async def query_due_statuses(context: PayoutContext) -> int:
    """Ask the rail about payouts whose result is overdue; reschedule the ones still pending."""
    policy = context.policy
    async with context.unit_of_work() as uow:
        now = context.clock()
        due = await uow.withdrawals.lock_due_for_status_check(now, policy.batch_size_max)
        for withdrawal in due:
            queries_done = withdrawal.status_checks + 1
            next_at = policy.next_status_query_at(queries_done, now)
            await uow.withdrawals.update(withdrawal.status_check_scheduled(next_at, now))
            if queries_done >= policy.status_queries_max:
                logger.warning(
                    "payout still pending after every regular status query; asking less often",
                    withdrawal_id=withdrawal.id,
                    status_checks=queries_done,
                    next_status_check_at=next_at.isoformat(),
                )
        await uow.commit()
    return await _each(due, lambda w: _query(context, w))


async def _query(context: PayoutContext, withdrawal: Withdrawal) -> object:
    assert withdrawal.provider_reference is not None
    try:
        status = await context.mobile_money.query_payment_status(
            withdrawal.provider_reference, withdrawal.provider_conversation_id
        )
    except B2cPaymentUnknown:
        # The rail holds no payment under our id: no callback will come, and asking again would
        # hear the same until the queries run out, with the hold still placed. Send it again.
        logger.warning("payout unknown to the rail; submitting it again", withdrawal_id=withdrawal.id)
        return await payouts.resubmit(context, withdrawal)
    except ProviderError as error:
        logger.warning("payout status query failed", withdrawal_id=withdrawal.id, error=type(error).__name__)
        return None
    return await payouts.apply_outcome(context, withdrawal.id, payouts.outcome_of(status), resolved_by="status_query")


async def _each(items: Sequence[Withdrawal], step: Callable[[Withdrawal], Awaitable[object]]) -> int:
    done = 0
    for withdrawal in items:
        try:
            await step(withdrawal)
            done += 1
        except Exception:
            # One stuck withdrawal must not stop the others; the next pass tries it again.
            logger.exception("recovery step failed", withdrawal_id=withdrawal.id)
    return done
