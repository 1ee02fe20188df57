"""Kafka subscribers: thin adapters from events to funding use cases.

`transfer.created` records deposits; payout's outcome events (`payout.succeeded`, `payout.failed`,
`payout.reversed`) record how a paid payable's payout ended, in one group of their own; and
`transfer.reconciled` links a deposit to the funding invoices reconciliation matched it to, in a
third.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from clearway.contracts.catalogue import topic
from clearway.contracts.events import (
    PayoutFailed,
    PayoutReversed,
    PayoutSucceeded,
    TransferCreated,
    TransferReconciled,
)
from clearway.funding.domain.deposits import LinkReconciledTransfer, RecordSettledTransfer
from clearway.funding.domain.payables import PayoutStatus, RecordPayoutOutcome
from clearway.funding.service import deposits, payables, reconciled_links
from clearway.funding.service.context import Clock, utc_now
from clearway.funding.service.ports import FundingUnitOfWork
from clearway.platform.consumer import Handler, IncomingEvent

TRANSFER_CREATED = topic("transfer.created").name
PAYOUT_SUCCEEDED = topic("payout.succeeded").name
PAYOUT_FAILED = topic("payout.failed").name
PAYOUT_REVERSED = topic("payout.reversed").name
TRANSFER_RECONCILED = topic("transfer.reconciled").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
TRANSFERS_GROUP_ID = "funding.transfers"
PAYOUTS_GROUP_ID = "funding.payouts"
RECONCILIATIONS_GROUP_ID = "funding.reconciliations"
# Reconciliation names each matched expectation `<source>:<source id>`; an invoice's source is this.
FUNDING_EXPECTATION_SOURCE = "funding"

UnitOfWorkFactory = Callable[[], FundingUnitOfWork]
# Drives a funding a consumer linked (automatically, or as reconciled) through its ledger steps
# once the link has committed.
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
        if result.auto_linked_funding_id is not None:
            await _complete_links(after_auto_link, [result.auto_linked_funding_id])

    return handle


async def _complete_links(after_auto_link: AfterAutoLink | None, funding_ids: Iterable[str]) -> None:
    if after_auto_link is None:
        return
    for funding_id in funding_ids:
        try:
            await after_auto_link(funding_id)
        except Exception:
            # The link is committed; the recovery loop finishes it. Retrying the message would
            # only hit the inbox, so it is done either way.
            logger.exception("completing the link of funding %s failed", funding_id)


def funding_ids(expectation_sources: Sequence[str]) -> tuple[str, ...]:
    """The funding ids among reconciliation's `<source>:<source id>` expectation sources, each once,
    in order; other sources (a payout, an API expectation) and malformed entries name no funding."""
    found: list[str] = []
    for expectation_source in expectation_sources:
        source, separator, source_id = expectation_source.partition(":")
        if source == FUNDING_EXPECTATION_SOURCE and separator and source_id and source_id not in found:
            found.append(source_id)
    return tuple(found)


def reconciled_link_command(reconciled: TransferReconciled) -> LinkReconciledTransfer:
    # Money leaving an account pays no invoice, whatever the match names.
    named = funding_ids(reconciled.expectation_sources) if reconciled.direction == "inbound" else ()
    # `external_id` is the processor's own id of the movement: the transfer_id of `transfer.created`.
    return LinkReconciledTransfer(transfer_id=reconciled.external_id, match_id=reconciled.match_id, funding_ids=named)


def transfer_reconciled_handler(
    unit_of_work: UnitOfWorkFactory, after_auto_link: AfterAutoLink | None = None, clock: Clock = utc_now
) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then `transfer.reconciled.dlq`.
        reconciled = TransferReconciled.model_validate(event.payload)
        result = await reconciled_links.link_reconciled(
            unit_of_work(),
            reconciled_link_command(reconciled),
            consumer=RECONCILIATIONS_GROUP_ID,
            event_id=event.inbox_id,
            topic=event.topic,
            clock=clock,
        )
        await _complete_links(after_auto_link, result.linked_funding_ids)

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
        (
            TRANSFER_RECONCILED,
            RECONCILIATIONS_GROUP_ID,
            transfer_reconciled_handler(unit_of_work, after_auto_link, clock),
        ),
    ]
