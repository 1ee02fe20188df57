"""Kafka subscribers: thin adapters from events to payout use cases."""

from __future__ import annotations

from clearway.contracts.catalogue import topic
from clearway.contracts.events import PayablePaid
from clearway.payout.service import payables
from clearway.payout.service.context import PayoutContext
from clearway.platform.consumer import Handler, IncomingEvent

PAYABLE_PAID = topic("payable.paid").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
PAYABLES_GROUP_ID = "payout.payables"


def payable_paid_handler(context: PayoutContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        # A body that fails validation raises: bounded retries, then `payable.paid.dlq`.
        paid = PayablePaid.model_validate(event.payload)
        await payables.pay_out_payable(
            context,
            payables.PaidPayable(
                payable_id=paid.payable_id,
                payee_id=paid.payee_id,
                amount_minor=paid.amount_minor,
                currency=paid.currency,
            ),
            consumer=PAYABLES_GROUP_ID,
            event_id=event.inbox_id,
            topic=event.topic,
        )

    return handle


def subscriptions(context: PayoutContext) -> list[tuple[str, str, Handler]]:
    return [(PAYABLE_PAID, PAYABLES_GROUP_ID, payable_paid_handler(context))]
