"""Kafka subscribers: thin adapters from events to funding use cases.

`transfer.created` records deposits; payout's outcome events (`payout.succeeded`, `payout.failed`,
`payout.reversed`) record how a paid payable's payout ended, in one group of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from clearway.contracts.catalogue import topic
from clearway.contracts.events import PayoutFailed, PayoutReversed, PayoutSucceeded, TransferCreated
from clearway.funding.domain.deposits import RecordSettledTransfer
from clearway.funding.domain.payables import PayoutStatus, RecordPayoutOutcome
from clearway.funding.service import deposits, payables
from clearway.funding.service.context import Clock, utc_now
from clearway.funding.service.ports import FundingUnitOfWork
from clearway.platform.consumer import Handler, IncomingEvent

TRANSFER_CREATED = topic("transfer.created").name
PAYOUT_SUCCEEDED = topic("payout.succeeded").name
PAYOUT_FAILED = topic("payout.failed").name
PAYOUT_REVERSED = topic("payout.reversed").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
TRANSFERS_GROUP_ID = "funding.transfers"
PAYOUTS_GROUP_ID = "funding.payouts"

UnitOfWorkFactory = Callable[[], FundingUnitOfWork]
# Drives an automatically linked funding through its ledger steps once the link has committed.
AfterAutoLink = Callable[[str], Awaitable[object]]

logger = logging.getLogger(__name__)


def settled_transfer_command(transfer: TransferCreated) -> RecordSettledTransfer:
    return RecordSettledTransfer(
        processor=transfer.processor,
        transfer_id=transfer.transfer_id,
        direction=transfer.direction,
        amount_minor=transfer.amount_minor,
        currency=transfer.currency,
        account_id=transfer.account_id,
        payment_reference=transfer.payment_reference,
        counterparty_name=transfer.counterparty.name,
        counterparty_account=transfer.counterparty.account,
        settled_at=transfer.settled_at,
    )


def transfer_created_handler(unit_of_work: UnitOfWorkFactory, after_auto_link: AfterAutoLink | None = None) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then `transfer.created.dlq`.
        transfer = TransferCreated.model_validate(event.payload)
        result = await deposits.record_and_match(
            unit_of_work(),
            settled_transfer_command(transfer),
            consumer=TRANSFERS_GROUP_ID,
            event_id=event.inbox_id,
            topic=event.topic,
        )
        if result.auto_linked_funding_id is not None and after_auto_link is not None:
            try:
                await after_auto_link(result.auto_linked_funding_id)
            except Exception:
                # The link is committed; the recovery loop finishes it. Retrying the record would
                # only hit the inbox, so the message is done either way.
                logger.exception("completing the automatic link of %s failed", result.auto_linked_funding_id)

    return handle


def payout_succeeded_command(payload: dict[str, Any]) -> RecordPayoutOutcome:
    succeeded = PayoutSucceeded.model_validate(payload)
    return RecordPayoutOutcome(
        payable_id=succeeded.payable_id or None,  # the contract allows ""; it names no payable
        withdrawal_id=succeeded.withdrawal_id,
        status=PayoutStatus.PAID_OUT,
        occurred_at=succeeded.occurred_at,
        receipt=succeeded.receipt or None,
    )


def payout_failed_command(payload: dict[str, Any]) -> RecordPayoutOutcome:
    failed = PayoutFailed.model_validate(payload)
    return RecordPayoutOutcome(
        payable_id=failed.payable_id or None,
        withdrawal_id=failed.withdrawal_id,
        status=PayoutStatus.FAILED,
        occurred_at=failed.occurred_at,
        failure_code=failed.failure_code,
    )


def payout_reversed_command(payload: dict[str, Any]) -> RecordPayoutOutcome:
    reversed_ = PayoutReversed.model_validate(payload)
    return RecordPayoutOutcome(
        payable_id=reversed_.payable_id or None,
        withdrawal_id=reversed_.withdrawal_id,
        status=PayoutStatus.REVERSED,
        occurred_at=reversed_.occurred_at,
    )


PayoutCommand = Callable[[dict[str, Any]], RecordPayoutOutcome]


def payout_outcome_handler(unit_of_work: UnitOfWorkFactory, command: PayoutCommand, clock: Clock = utc_now) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then the topic's `.dlq`.
        await payables.record_payout_outcome(
            unit_of_work(),
            command(event.payload),
            consumer=PAYOUTS_GROUP_ID,
            event_id=event.inbox_id,
            topic=event.topic,
            clock=clock,
        )

    return handle


def subscriptions(
    unit_of_work: UnitOfWorkFactory, after_auto_link: AfterAutoLink | None = None, *, clock: Clock = utc_now
) -> list[tuple[str, str, Handler]]:
    return [
        (TRANSFER_CREATED, TRANSFERS_GROUP_ID, transfer_created_handler(unit_of_work, after_auto_link)),
        (PAYOUT_SUCCEEDED, PAYOUTS_GROUP_ID, payout_outcome_handler(unit_of_work, payout_succeeded_command, clock)),
        (PAYOUT_FAILED, PAYOUTS_GROUP_ID, payout_outcome_handler(unit_of_work, payout_failed_command, clock)),
        (PAYOUT_REVERSED, PAYOUTS_GROUP_ID, payout_outcome_handler(unit_of_work, payout_reversed_command, clock)),
    ]
