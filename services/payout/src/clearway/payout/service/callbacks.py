"""The B2C rail's callbacks: the result of a payout (or of a status query), and the queue-timeout
notice. Both are verified by the secret token in their URL before the body is read.

An answer for a payout we do not know is acknowledged and logged (the rail would otherwise retry
it forever); a known one goes through `payouts.apply_outcome`, which makes duplicates harmless.
"""

from __future__ import annotations

from collections.abc import Mapping

from clearway.payout.domain.withdrawals import WithdrawalStatus
from clearway.payout.service import payouts
from clearway.payout.service.context import PayoutContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.payout.callbacks")


async def handle_result(context: PayoutContext, token: str | None, body: bytes, headers: Mapping[str, str]) -> None:
    provider = context.mobile_money
    provider.verify_callback_token(token)  # CallbackRejected -> 401
    result = provider.parse_result_callback(body, headers)  # CallbackInvalid -> 400
    async with context.unit_of_work() as uow:
        withdrawal = await uow.withdrawals.get_by_provider_reference(
            result.originator_conversation_id, for_update=False
        )
    if withdrawal is None:
        logger.warning(
            "payout result for an unknown payout", originator_conversation_id=result.originator_conversation_id
        )
        return
    await payouts.apply_outcome(context, withdrawal.id, payouts.outcome_of(result.to_status()), resolved_by="callback")


async def handle_timeout(context: PayoutContext, token: str | None, body: bytes, headers: Mapping[str, str]) -> None:
    provider = context.mobile_money
    provider.verify_callback_token(token)
    originator_conversation_id = provider.parse_timeout_callback(body, headers)
    async with context.unit_of_work() as uow:
        withdrawal = await uow.withdrawals.get_by_provider_reference(originator_conversation_id, for_update=True)
        if withdrawal is None or withdrawal.status is not WithdrawalStatus.PROCESSING:
            logger.info("payout timeout notice ignored", originator_conversation_id=originator_conversation_id)
            return
        await uow.withdrawals.update(withdrawal.status_check_due(context.clock()))
        await uow.commit()
    logger.info("payout timed out at the rail; its status will be asked for", withdrawal_id=withdrawal.id)
