"""Kafka subscribers: thin adapters from events to funding use cases."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from clearway.contracts.catalogue import topic
from clearway.contracts.events import TransferCreated
from clearway.funding.domain.deposits import RecordSettledTransfer
from clearway.funding.service import deposits
from clearway.funding.service.ports import FundingUnitOfWork
from clearway.platform.consumer import Handler, IncomingEvent

TRANSFER_CREATED = topic("transfer.created").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
TRANSFERS_GROUP_ID = "funding.transfers"

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


def subscriptions(
    unit_of_work: UnitOfWorkFactory, after_auto_link: AfterAutoLink | None = None
) -> list[tuple[str, str, Handler]]:
    return [(TRANSFER_CREATED, TRANSFERS_GROUP_ID, transfer_created_handler(unit_of_work, after_auto_link))]
