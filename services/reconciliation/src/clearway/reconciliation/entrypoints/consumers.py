"""Kafka subscribers: thin adapters from events to reconciliation use cases."""

from __future__ import annotations

from collections.abc import Callable

from clearway.contracts.catalogue import topic
from clearway.contracts.events import TransferCreated
from clearway.platform.consumer import Handler, IncomingEvent
from clearway.reconciliation.domain.external_transactions import RecordExternalTransaction
from clearway.reconciliation.service import external_transactions
from clearway.reconciliation.service.ports import ReconciliationUnitOfWork

TRANSFER_CREATED = topic("transfer.created").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
TRANSFERS_GROUP_ID = "reconciliation.transfers"

UnitOfWorkFactory = Callable[[], ReconciliationUnitOfWork]


def external_transaction_command(transfer: TransferCreated) -> RecordExternalTransaction:
    return RecordExternalTransaction(
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


def transfer_created_handler(unit_of_work: UnitOfWorkFactory) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then `transfer.created.dlq`.
        transfer = TransferCreated.model_validate(event.payload)
        await external_transactions.record_external_transaction(
            unit_of_work(),
            external_transaction_command(transfer),
            consumer=TRANSFERS_GROUP_ID,
            event_id=event.inbox_id,
            topic=event.topic,
        )

    return handle


def subscriptions(unit_of_work: UnitOfWorkFactory) -> list[tuple[str, str, Handler]]:
    return [(TRANSFER_CREATED, TRANSFERS_GROUP_ID, transfer_created_handler(unit_of_work))]
