"""Kafka subscribers (step 1, entrypoint): thin adapters from command messages to pipeline operations.

Parsing a command is step 2 (`service/commands.py`); posting it is step 3 (`service/posting/`).

A command carries the sender's deterministic reference, so a redelivery is answered by the
ledger's reference check as a replay: no second posting, no inbox row needed. A command the
ledger can never apply (malformed, unknown balance) raises, is retried a bounded number of
times and lands in `<topic>.dlq`; one that is valid but unaffordable is recorded REJECTED
and announced on `ledger.transaction.rejected` like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from clearway.contracts.events.commands import LedgerEntryRequested, LedgerTransactionRequested
from clearway.ledger.service.commands import entry_request_from_command, transfer_from_command
from clearway.ledger.service.entries import post_entry
from clearway.ledger.service.posting.operations import Transfer
from clearway.ledger.service.posting.pipeline import PostingPipeline
from clearway.platform.consumer import IncomingEvent

COMMANDS_GROUP_ID = "ledger.commands"


def entry_requested_handler(
    pool: asyncpg.Pool, pipeline: PostingPipeline
) -> Callable[[IncomingEvent], Awaitable[None]]:
    """`ledger.entry.requested`: the ik makes a redelivery a replay. The command carries no currency
    field, so lines whose account has none take `parameters["currency"]`; a command can never
    reconcile (it has no external transaction), so one moving a linked account is refused.
    """

    async def handle(event: IncomingEvent) -> None:
        request = entry_request_from_command(LedgerEntryRequested.model_validate(event.payload))
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
