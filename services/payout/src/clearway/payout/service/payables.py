"""Paying out paid payables (seed 000 -> money out): funding's `payable.paid` put the money in the
payee's wallet; payout sends it to the payee's primary withdrawal method in that currency.

Exactly once per payable: the inbox records the event and the withdrawal (keyed by the payable,
unique) in one transaction, so a redelivery finds both. Up to the currency's auto-approval amount
no second person is needed; above it the withdrawal waits for dual approval like a user's.
A payee without a primary method keeps the money in the wallet (logged, nothing is sent).
"""

from __future__ import annotations

from dataclasses import dataclass

from clearway.payout.domain.errors import BusinessRuleError
from clearway.payout.domain.withdrawals import (
    PAYMENT_INTENT_ID_PREFIX,
    WITHDRAWAL_ID_PREFIX,
    Origin,
    Withdrawal,
    new_withdrawal,
)
from clearway.payout.service import recovery, withdrawals
from clearway.payout.service.context import PayoutContext
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger

logger = get_logger("clearway.payout.payables")


@dataclass(frozen=True, slots=True)
class PaidPayable:
    """What funding's `payable.paid` tells payout: whose wallet received how much, for which payable."""

    payable_id: str
    payee_id: str
    amount_minor: int
    currency: str


def idempotency_key_for(payable_id: str) -> str:
    return f"payable:{payable_id}"


async def pay_out_payable(
    context: PayoutContext, paid: PaidPayable, *, consumer: str, event_id: str, topic: str
) -> Withdrawal | None:
    withdrawal = await _record(context, paid, consumer=consumer, event_id=event_id, topic=topic)
    if withdrawal is None:
        return None
    try:
        reserved = await withdrawals.reserve(context, withdrawal)
    except BusinessRuleError as error:
        logger.warning("payable payout not reserved", payable_id=paid.payable_id, code=error.error_code)
        return None
    return await recovery.auto_approve_if_allowed(context, reserved.withdrawal)


async def _record(
    context: PayoutContext, paid: PaidPayable, *, consumer: str, event_id: str, topic: str
) -> Withdrawal | None:
    async with context.unit_of_work() as uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return None
        if await uow.withdrawals.get_by_payable(paid.payable_id) is not None:
            await uow.commit()  # a second event for the same payable (a replay by funding): paid once
            return None
        method = await uow.methods.primary_for(paid.payee_id, paid.currency)
        if method is None:
            logger.warning(
                "paid payable not paid out: the payee has no primary withdrawal method in this currency",
                payable_id=paid.payable_id,
                payee_id=paid.payee_id,
                currency=paid.currency,
            )
            await uow.commit()
            return None
        withdrawal, intent = new_withdrawal(
            withdrawal_id=new_id(WITHDRAWAL_ID_PREFIX),
            intent_id=new_id(PAYMENT_INTENT_ID_PREFIX),
            user_id=paid.payee_id,
            method_id=method.id,
            method_type=method.method_type.value,
            provider=withdrawals.rail_for(context, method),
            amount_minor=paid.amount_minor,
            currency=paid.currency,
            idempotency_key=idempotency_key_for(paid.payable_id),
            origin=Origin.PAYABLE,
            payable_id=paid.payable_id,
            now=context.clock(),
        )
        await uow.withdrawals.add(withdrawal, intent)
        await uow.commit()
    logger.info("paid payable queued for payout", payable_id=paid.payable_id, withdrawal_id=withdrawal.id)
    return withdrawal
