"""Kafka subscribers: thin adapters from the processor's topics to authorization's use cases.

A body that fails the public contract raises: bounded retries, then `<topic>.dlq`. A valid request
always gets a decision (an unknown card is declined `invalid_request`), published as
`card.authorization.decided`.
"""

from __future__ import annotations

from clearway.authorization.domain.authorizations import AuthorizationRequest, Channel
from clearway.authorization.domain.clearings import ClearingRequest
from clearway.authorization.service import clearings, decisions, reversals, transfer_repayments
from clearway.authorization.service.authorizations import InboxEntry
from clearway.authorization.service.context import AuthorizationContext
from clearway.contracts.catalogue import topic
from clearway.contracts.events import (
    CardAuthorizationRequested,
    CardAuthorizationReversed,
    CardClearingReceived,
    TransferCreated,
)
from clearway.platform.consumer import Handler, IncomingEvent

AUTHORIZATION_REQUESTED = topic("card.authorization.requested").name
AUTHORIZATION_REVERSED = topic("card.authorization.reversed").name
CLEARING_RECEIVED = topic("card.clearing.received").name
# The group id doubles as the inbox's consumer name: one inbox namespace per subscription.
REQUESTS_GROUP_ID = "authorization.requests"
REVERSALS_GROUP_ID = "authorization.reversals"
CLEARINGS_GROUP_ID = "authorization.clearings"
TRANSFER_CREATED = topic("transfer.created").name
TRANSFERS_GROUP_ID = "authorization.transfers"


def authorization_requested_handler(context: AuthorizationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        requested = CardAuthorizationRequested.model_validate(event.payload)
        request = AuthorizationRequest(
            authorization_id=requested.authorization_id,
            card_id=requested.card_id,
            amount_minor=requested.amount_minor,
            currency=requested.currency,
            merchant_name=requested.merchant_name,
            merchant_category_code=requested.merchant_category_code,
            channel=Channel(requested.channel),
            requested_at=requested.requested_at,
            incremental_of=requested.incremental_of,
        )
        inbox = InboxEntry(REQUESTS_GROUP_ID, event.inbox_id, event.topic)
        await decisions.authorize(context, request, inbox=inbox)

    return handle


def authorization_reversed_handler(context: AuthorizationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        reversed_ = CardAuthorizationReversed.model_validate(event.payload)
        inbox = InboxEntry(REVERSALS_GROUP_ID, event.inbox_id, event.topic)
        await reversals.reverse(
            context, reversed_.authorization_id, reversed_.amount_minor, card_id=reversed_.card_id, inbox=inbox
        )

    return handle


def clearing_received_handler(context: AuthorizationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        received = CardClearingReceived.model_validate(event.payload)
        request = ClearingRequest(
            clearing_id=received.clearing_id,
            authorization_id=received.authorization_id,
            card_id=received.card_id,
            amount_minor=received.amount_minor,
            currency=received.currency,
            merchant_name=received.merchant_name,
            merchant_category_code=received.merchant_category_code,
            cleared_at=received.cleared_at,
        )
        inbox = InboxEntry(CLEARINGS_GROUP_ID, event.inbox_id, event.topic)
        await clearings.clear(context, request, inbox=inbox)

    return handle


def transfer_created_handler(context: AuthorizationContext) -> Handler:
    async def handle(event: IncomingEvent) -> None:
        created = TransferCreated.model_validate(event.payload)
        transfer = transfer_repayments.SettledTransfer(
            transfer_id=created.transfer_id,
            processor=created.processor,
            direction=created.direction,
            amount_minor=created.amount_minor,
            currency=created.currency,
            payment_reference=created.payment_reference,
        )
        inbox = InboxEntry(TRANSFERS_GROUP_ID, event.inbox_id, event.topic)
        await transfer_repayments.repay_from_transfer(context, transfer, inbox=inbox)

    return handle


def subscriptions(context: AuthorizationContext) -> list[tuple[str, str, Handler]]:
    return [
        (AUTHORIZATION_REQUESTED, REQUESTS_GROUP_ID, authorization_requested_handler(context)),
        (AUTHORIZATION_REVERSED, REVERSALS_GROUP_ID, authorization_reversed_handler(context)),
        (CLEARING_RECEIVED, CLEARINGS_GROUP_ID, clearing_received_handler(context)),
        (TRANSFER_CREATED, TRANSFERS_GROUP_ID, transfer_created_handler(context)),
    ]
