"""External transaction use cases: record a reported transfer exactly once, and read them back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from clearway.platform.ids import new_id
from clearway.reconciliation.domain.external_transactions import (
    EXTERNAL_TRANSACTION_ID_PREFIX,
    ExternalTransaction,
    MatchStatus,
    RecordExternalTransaction,
    new_external_transaction,
)
from clearway.reconciliation.service.ports import ReconciliationUnitOfWork

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecordOutcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE_EVENT = "duplicate_event"  # the same event delivered again
    DUPLICATE_TRANSFER = "duplicate_transfer"  # a processor re-sent a transfer under a new event id


async def record_external_transaction(
    uow: ReconciliationUnitOfWork,
    command: RecordExternalTransaction,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> RecordOutcome:
    """The inbox row and the transaction commit together, so a redelivery has no second effect."""
    async with uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return RecordOutcome.DUPLICATE_EVENT
        transaction = new_external_transaction(
            command, transaction_id=new_id(EXTERNAL_TRANSACTION_ID_PREFIX), now=clock()
        )
        added = await uow.external_transactions.add_if_new(transaction)
        await uow.commit()
    outcome = RecordOutcome.RECORDED if added else RecordOutcome.DUPLICATE_TRANSFER
    logger.info(
        "external transaction %s/%s: %s",
        command.processor,
        command.transfer_id,
        outcome.value,
        extra={"event_id": event_id},
    )
    return outcome


async def get_external_transaction(uow: ReconciliationUnitOfWork, transaction_id: str) -> ExternalTransaction | None:
    async with uow:
        return await uow.external_transactions.get(transaction_id)


async def list_external_transactions(
    uow: ReconciliationUnitOfWork, *, status: MatchStatus | None, starting_after: str | None, limit: int
) -> Sequence[ExternalTransaction]:
    assert limit >= 1, "a page holds at least one item"
    async with uow:
        transactions = await uow.external_transactions.list(status=status, starting_after=starting_after, limit=limit)
    assert len(transactions) <= limit, "repository returned more than asked"
    return transactions
