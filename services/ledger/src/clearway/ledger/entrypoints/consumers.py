"""Kafka subscribers: thin adapters from command messages to pipeline operations.

A command carries the sender's deterministic reference, so a redelivery is answered by the
ledger's reference check as a replay: no second posting, no inbox row needed. A command the
ledger can never apply (malformed, unknown balance) raises, is retried a bounded number of
times and lands in `<topic>.dlq`; one that is valid but unaffordable is recorded REJECTED
and announced on `ledger.transaction.rejected` like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

import asyncpg

from clearway.contracts.events.commands import LedgerEntryRequested, LedgerTransactionRequested
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.service.entries import EntryRequest, post_entry
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


def entry_requested_handler(
    pool: asyncpg.Pool, pipeline: PostingPipeline
) -> Callable[[IncomingEvent], Awaitable[None]]:
    """`ledger.entry.requested`: the ik makes a redelivery a replay. The command carries no currency
    field, so lines whose account has none take `parameters["currency"]`; a command can never
    reconcile (it has no external transaction), so one moving a linked account is refused.
    """

    async def handle(event: IncomingEvent) -> None:
        command = LedgerEntryRequested.model_validate(event.payload)
        request = EntryRequest(
            ledger_id=command.ledger_id,
            entry_type=command.entry_type,
            ik=command.ik,
            parameters=dict(command.parameters),
            description=command.description or "",
        )
        await post_entry(pool, pipeline, request)

    return handle


def subscriptions(
    pipeline: PostingPipeline, pool: asyncpg.Pool
) -> list[tuple[str, str, Callable[[IncomingEvent], Awaitable[None]]]]:
    return [
        ("ledger.entry.requested", COMMANDS_GROUP_ID, entry_requested_handler(pool, pipeline)),
    ]


def transaction_requested_batch_handler(
    pipeline: PostingPipeline,
) -> Callable[[Sequence[IncomingEvent]], Awaitable[None]]:
    """A whole poll of transaction commands as group-committed batches (the Kafka fast path).
    When a batch fails, the runner replays its commands one at a time (retries, then `.dlq`)."""

    async def handle(events: Sequence[IncomingEvent]) -> None:
        operations = [
            Transfer(transfer_from_command(LedgerTransactionRequested.model_validate(event.payload)))
            for event in events
        ]
        for result in await pipeline.run_now(operations):
            result.unwrap()

    return handle


def batch_subscriptions(
    pipeline: PostingPipeline,
) -> list[tuple[str, str, Callable[[Sequence[IncomingEvent]], Awaitable[None]]]]:
    return [("ledger.transaction.requested", COMMANDS_GROUP_ID, transaction_requested_batch_handler(pipeline))]
