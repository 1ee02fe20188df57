"""Deposit use cases: record a settled transfer exactly once, and read deposits back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from clearway.funding.domain.deposits import DEPOSIT_ID_PREFIX, Deposit, RecordSettledTransfer, new_deposit
from clearway.funding.service.ports import FundingUnitOfWork
from clearway.platform.ids import new_id

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecordOutcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE_EVENT = "duplicate_event"  # the same event delivered again
    DUPLICATE_TRANSFER = "duplicate_transfer"  # a processor re-sent a transfer under a new event id
    NOT_A_DEPOSIT = "not_a_deposit"  # money leaving an account funds nothing


async def record_settled_transfer(
    uow: FundingUnitOfWork,
    command: RecordSettledTransfer,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> RecordOutcome:
    """The inbox row and the deposit commit together, so a redelivery has no second effect."""
    async with uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return RecordOutcome.DUPLICATE_EVENT
        outcome = RecordOutcome.NOT_A_DEPOSIT
        if command.is_deposit:
            deposit = new_deposit(command, deposit_id=new_id(DEPOSIT_ID_PREFIX), now=clock())
            added = await uow.deposits.add_if_new(deposit)
            outcome = RecordOutcome.RECORDED if added else RecordOutcome.DUPLICATE_TRANSFER
        await uow.commit()
    logger.info(
        "settled transfer %s/%s: %s",
        command.processor,
        command.transfer_id,
        outcome.value,
        extra={"event_id": event_id},
    )
    return outcome


async def get_deposit(uow: FundingUnitOfWork, deposit_id: str) -> Deposit | None:
    async with uow:
        return await uow.deposits.get(deposit_id)


async def list_deposits(
    uow: FundingUnitOfWork, *, linked: bool | None, starting_after: str | None, limit: int
) -> Sequence[Deposit]:
    assert limit >= 1, "a page holds at least one item"
    async with uow:
        deposits = await uow.deposits.list(linked=linked, starting_after=starting_after, limit=limit)
    assert len(deposits) <= limit, "repository returned more than asked"
    return deposits
