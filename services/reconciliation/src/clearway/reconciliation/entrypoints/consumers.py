"""Kafka subscribers: thin adapters from other services' events to reconciliation use cases.

transfer.created          -> an external transaction on the link naming its account
funding.created           -> an inbound expectation: the invoice's total under its payment reference
funding.deposit_linked    -> cross-service check: the deposit has its ledger posting
payout.submitted          -> an outbound expectation on the rail's link (`payout:<provider>:<currency>`)
payout.succeeded          -> the rail's outbound transaction on that link
payout.failed             -> the expectation is cancelled (its initiation reversed)
payout.reversed           -> the rail's inbound reversal of the settled payout (the reversal rule)
topup.succeeded           -> on the collection account's link (`collections:<provider>:<currency>`): the
                             wallet credit funding made is expected, and the provider's receipt is the
                             external transaction that settles it
card.settlement.received  -> a card network's settlement report on the link naming its account: the
                             expectation the bank's payment settles (seed 003 levels 1-2)
card.clearing_file.received -> a clearing's card transactions, split once its settlement is posted (level 3)
"""

from __future__ import annotations

from datetime import datetime

from clearway.contracts.catalogue import topic
from clearway.contracts.events import (
    CardClearingFileReceived,
    CardSettlementReceived,
    FundingCreated,
    FundingDepositLinked,
    PayoutFailed,
    PayoutReversed,
    PayoutSubmitted,
    PayoutSucceeded,
    TopupSucceeded,
    TransferCreated,
)
from clearway.platform.consumer import Handler, IncomingEvent
from clearway.reconciliation.domain.card_clearings import CardTransaction
from clearway.reconciliation.domain.expectations import USER_BALANCE_PREFIX, NewExpectation
from clearway.reconciliation.domain.external_transactions import Direction, RecordExternalTransaction
from clearway.reconciliation.service import card_settlements, checks, expectations, reconcile_link, transactions
from clearway.reconciliation.service.context import ReconciliationContext
from clearway.reconciliation.service.sources import (
    collection_account,
    collection_link,
    funding_link,
    payout_account,
    payout_link,
)

# Group ids double as inbox consumer names: one inbox namespace per subscription.
TRANSFERS_GROUP_ID = "reconciliation.transfers"
FUNDINGS_GROUP_ID = "reconciliation.fundings"
PAYOUTS_GROUP_ID = "reconciliation.payouts"
TOPUPS_GROUP_ID = "reconciliation.topups"
CARD_SETTLEMENTS_GROUP_ID = "reconciliation.card_settlements"
ACTOR = "event"


def transfer_command(transfer: TransferCreated) -> RecordExternalTransaction:
    return RecordExternalTransaction(
        processor=transfer.processor,
        transfer_id=transfer.transfer_id,
        direction=transfer.direction,
        amount_minor=transfer.amount_minor,
        currency=transfer.currency,
        account_id=transfer.account_id,
        reference=transfer.payment_reference,
        booked_at=transfer.settled_at,
        counterparty_name=transfer.counterparty.name,
        counterparty_account=transfer.counterparty.account,
    )


def _inbox(group_id: str, event: IncomingEvent) -> tuple[str, str, str]:
    return (group_id, event.inbox_id, event.topic)


def transfer_created_handler(context: ReconciliationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then `transfer.created.dlq`.
        transfer = TransferCreated.model_validate(event.payload)
        recorded = await transactions.record_from_event(
            context, transfer_command(transfer), consumer=TRANSFERS_GROUP_ID, event_id=event.inbox_id, topic=event.topic
        )
        if recorded.transaction is not None:
            await reconcile_link.after_arrival(context, recorded.transaction.link_id)

    return handle


def funding_handler(context: ReconciliationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        if event.topic == FUNDING_CREATED:
            created = FundingCreated.model_validate(event.payload)
            link = await funding_link(context, created.currency)
            if link is None:
                return  # no bank link in this currency yet: nothing to expect it on
            expectation = await expectations.add_expectation(
                context,
                NewExpectation(
                    link_id=link.id,
                    direction="inbound",
                    amount_minor=created.total_minor,
                    currency=created.currency,
                    reference=created.payment_reference,
                    source="funding",
                    source_id=created.funding_id,
                    expected_on=created.due_date,
                    account_path=f"{USER_BALANCE_PREFIX}{created.workspace_id}",
                ),
                actor=ACTOR,
                inbox=_inbox(FUNDINGS_GROUP_ID, event),
            )
            if expectation is not None:
                await reconcile_link.after_arrival(context, link.id)
            return
        linked = FundingDepositLinked.model_validate(event.payload)
        await checks.check_deposit_posted(
            context,
            funding_id=linked.funding_id,
            transfer_id=linked.transfer_id,
            amount_minor=linked.amount_minor,
            currency=linked.currency,
        )

    return handle


def payout_handler(context: ReconciliationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        if event.topic == PAYOUT_SUBMITTED:
            submitted = PayoutSubmitted.model_validate(event.payload)
            link = await payout_link(context, submitted.provider, submitted.currency)
            if link is None:
                return
            created = await expectations.add_expectation(
                context,
                NewExpectation(
                    link_id=link.id,
                    direction="outbound",
                    amount_minor=submitted.amount_minor,
                    currency=submitted.currency,
                    reference=submitted.withdrawal_id,
                    source="payout",
                    source_id=submitted.withdrawal_id,
                    expected_on=submitted.occurred_at.date(),
                    account_path=f"{USER_BALANCE_PREFIX}{submitted.user_id}",
                ),
                actor=ACTOR,
                inbox=_inbox(PAYOUTS_GROUP_ID, event),
            )
            if created is not None:
                await reconcile_link.after_arrival(context, link.id)
        elif event.topic == PAYOUT_SUCCEEDED:
            paid = PayoutSucceeded.model_validate(event.payload)
            await _rail_transaction(
                context,
                event,
                paid.provider,
                paid.currency,
                paid.withdrawal_id,
                "outbound",
                paid.amount_minor,
                paid.withdrawal_id,
                paid.occurred_at,
                paid.receipt,
            )
        elif event.topic == PAYOUT_FAILED:
            failed = PayoutFailed.model_validate(event.payload)
            await expectations.cancel_by_source(context, "payout", failed.withdrawal_id, reason=failed.failure_code)
        elif event.topic == PAYOUT_REVERSED:
            # The rail paid it back: seed 003's reversal after settlement, reconciled against the
            # payout's settled match with opposite amounts (matching's reversal rule).
            reversed_ = PayoutReversed.model_validate(event.payload)
            reference = f"reversal:{reversed_.withdrawal_id}"
            await _rail_transaction(
                context,
                event,
                reversed_.provider,
                reversed_.currency,
                reference,
                "inbound",
                reversed_.amount_minor,
                reference,
                reversed_.occurred_at,
                None,
            )

    return handle


async def _rail_transaction(
    context: ReconciliationContext,
    event: IncomingEvent,
    provider: str,
    currency: str,
    transfer_id: str,
    direction: Direction,
    amount_minor: int,
    reference: str,
    booked_at: datetime,
    description: str | None,
    *,
    account_id: str | None = None,
    consumer: str = PAYOUTS_GROUP_ID,
) -> None:
    """The rail's own record of a movement (a payout's result, a collection's receipt) on its link."""
    recorded = await transactions.record_from_event(
        context,
        RecordExternalTransaction(
            processor=provider,
            transfer_id=transfer_id,
            direction=direction,
            amount_minor=amount_minor,
            currency=currency,
            account_id=account_id or payout_account(provider, currency),
            reference=reference,
            booked_at=booked_at,
            description=description,
        ),
        consumer=consumer,
        event_id=event.inbox_id,
        topic=event.topic,
    )
    if recorded.transaction is not None:
        await reconcile_link.after_arrival(context, recorded.transaction.link_id)


def topup_handler(context: ReconciliationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        topup = TopupSucceeded.model_validate(event.payload)
        link = await collection_link(context, topup.provider, topup.currency)
        if link is None:
            return  # no collection account linked for this rail: nothing to reconcile it on
        reference = f"topup:{topup.topup_id}"
        # What the platform did (funding credited the wallet) is the expectation, once per top-up;
        # the provider's receipt is the external transaction (a statement listing the same receipt
        # later adds nothing: idempotent by link and external id).
        await expectations.add_expectation(
            context,
            NewExpectation(
                link_id=link.id,
                direction="inbound",
                amount_minor=topup.amount_minor,
                currency=topup.currency,
                reference=reference,
                source="topup",
                source_id=topup.topup_id,
                expected_on=topup.occurred_at.date(),
                account_path=f"{USER_BALANCE_PREFIX}{topup.identity_id}",
            ),
            actor=ACTOR,
        )
        await _rail_transaction(
            context,
            event,
            topup.provider,
            topup.currency,
            topup.receipt or topup.checkout_request_id or topup.topup_id,
            "inbound",
            topup.amount_minor,
            reference,
            topup.occurred_at,
            f"{topup.provider} collection from {topup.phone_masked}",
            account_id=collection_account(topup.provider, topup.currency),
            consumer=TOPUPS_GROUP_ID,
        )

    return handle


def card_settlement_handler(context: ReconciliationContext) -> Handler:
    """The network's files, the same use cases as their HTTP imports: importing a file again changes
    nothing (so a redelivery needs no inbox), a different file under the same id is refused (DLQ)."""

    async def handle(event: IncomingEvent) -> None:
        if event.topic == CARD_SETTLEMENT_RECEIVED:
            report = CardSettlementReceived.model_validate(event.payload)
            link = await card_settlements.link_of_network_account(
                context,
                network=report.network,
                account_id=report.account_id,
                currency=report.currency,
                file=f"settlement {report.settlement_id}",
            )
            if link is None:
                return
            await card_settlements.import_settlement_file(
                context,
                link.id,
                settlement_id=report.settlement_id,
                clearings=[(clearing.clearing_id, clearing.amount_minor) for clearing in report.clearings],
                settled_on=report.settled_on,
                actor=ACTOR,
            )
            await reconcile_link.after_arrival(context, link.id)
            return
        clearing_file = CardClearingFileReceived.model_validate(event.payload)
        link = await card_settlements.link_of_network_account(
            context,
            network=clearing_file.network,
            account_id=clearing_file.account_id,
            currency=clearing_file.currency,
            file=f"clearing {clearing_file.clearing_id}",
        )
        if link is not None:
            await card_settlements.import_clearing_file(
                context,
                link.id,
                clearing_id=clearing_file.clearing_id,
                transactions=[
                    CardTransaction(t.card_transaction_id, t.account_path, t.amount_minor)
                    for t in clearing_file.transactions
                ],
            )

    return handle


TRANSFER_CREATED = topic("transfer.created").name
TOPUP_SUCCEEDED = topic("topup.succeeded").name
FUNDING_CREATED = topic("funding.created").name
FUNDING_DEPOSIT_LINKED = topic("funding.deposit_linked").name
PAYOUT_SUBMITTED = topic("payout.submitted").name
PAYOUT_SUCCEEDED = topic("payout.succeeded").name
PAYOUT_FAILED = topic("payout.failed").name
PAYOUT_REVERSED = topic("payout.reversed").name
CARD_SETTLEMENT_RECEIVED = topic("card.settlement.received").name
CARD_CLEARING_FILE_RECEIVED = topic("card.clearing_file.received").name


def subscriptions(context: ReconciliationContext) -> list[tuple[str, str, Handler]]:
    fundings, payouts, cards = funding_handler(context), payout_handler(context), card_settlement_handler(context)
    return [
        (TRANSFER_CREATED, TRANSFERS_GROUP_ID, transfer_created_handler(context)),
        (FUNDING_CREATED, f"{FUNDINGS_GROUP_ID}.created", fundings),
        (FUNDING_DEPOSIT_LINKED, f"{FUNDINGS_GROUP_ID}.deposits", fundings),
        (PAYOUT_SUBMITTED, f"{PAYOUTS_GROUP_ID}.submitted", payouts),
        (PAYOUT_SUCCEEDED, f"{PAYOUTS_GROUP_ID}.succeeded", payouts),
        (PAYOUT_FAILED, f"{PAYOUTS_GROUP_ID}.failed", payouts),
        (PAYOUT_REVERSED, f"{PAYOUTS_GROUP_ID}.reversed", payouts),
        (TOPUP_SUCCEEDED, TOPUPS_GROUP_ID, topup_handler(context)),
        (CARD_SETTLEMENT_RECEIVED, f"{CARD_SETTLEMENTS_GROUP_ID}.reports", cards),
        (CARD_CLEARING_FILE_RECEIVED, f"{CARD_SETTLEMENTS_GROUP_ID}.clearing_files", cards),
    ]
