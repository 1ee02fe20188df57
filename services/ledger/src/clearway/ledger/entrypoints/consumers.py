"""Kafka subscribers: thin adapters from command messages to pipeline operations.

A command carries the sender's deterministic reference, so a redelivery is answered by the
ledger's reference check as a replay: no second posting, no inbox row needed. A command the
ledger can never apply (malformed, unknown balance) raises, is retried a bounded number of
times and lands in `<topic>.dlq`; one that is valid but unaffordable is recorded REJECTED
and announced on `ledger.transaction.rejected` like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from clearway.contracts.events.commands import LedgerTransactionRequested
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.service.operations import Transfer
from clearway.ledger.service.pipeline import PostingPipeline
from clearway.ledger.service.transfers import build_transfer_request, currency_precision
from clearway.platform.consumer import IncomingEvent

COMMANDS_GROUP_ID = "ledger.commands"


def transfer_from_command(command: LedgerTransactionRequested) -> TransferRequest:
    precision = command.precision or currency_precision(command.currency)
    precise_amount = command.precise_amount if command.precise_amount is not None else command.amount_minor
    overdraft_limit = None
    if command.overdraft_limit is not None:
        overdraft_limit = Decimal(command.overdraft_limit) / Decimal(precision)
    return build_transfer_request(
        reference=command.reference,
        currency=command.currency,
        precise_amount=precise_amount,
        precision=precision,
        source=command.source,
        destination=command.destination,
        sources=[item.model_dump() for item in command.sources] if command.sources else None,
        destinations=[item.model_dump() for item in command.destinations] if command.destinations else None,
        allow_overdraft=command.allow_overdraft,
        overdraft_limit=overdraft_limit,
        inflight=command.inflight,
        inflight_expiry_date=command.inflight_expires_at,
        description=command.description,
        meta_data=dict(command.meta_data),
    )


def transaction_requested_handler(pipeline: PostingPipeline) -> Callable[[IncomingEvent], Awaitable[None]]:
    async def handle(event: IncomingEvent) -> None:
        command = LedgerTransactionRequested.model_validate(event.payload)
        result = await pipeline.submit(Transfer(transfer_from_command(command)))
        result.unwrap()

    return handle


def subscriptions(pipeline: PostingPipeline) -> list[tuple[str, str, Callable[[IncomingEvent], Awaitable[None]]]]:
    return [("ledger.transaction.requested", COMMANDS_GROUP_ID, transaction_requested_handler(pipeline))]
