"""Deposit use cases: record a settled transfer exactly once, match it to the invoice its payment
reference names, and read deposits back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from clearway.funding.domain.deposits import DEPOSIT_ID_PREFIX, Deposit, RecordSettledTransfer, new_deposit
from clearway.funding.domain.errors import FundingError
from clearway.funding.domain.fundings import FundingStatus, normalize_payment_reference
from clearway.funding.service.context import Clock, utc_now
from clearway.funding.service.linking import AUTO_LINK_ACTOR, claim_deposit
from clearway.funding.service.ports import FundingUnitOfWork
from clearway.platform.ids import new_id

logger = logging.getLogger(__name__)

__all__ = ["Clock", "RecordOutcome", "RecordResult", "record_settled_transfer", "utc_now"]


class RecordOutcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE_EVENT = "duplicate_event"  # the same event delivered again
    DUPLICATE_TRANSFER = "duplicate_transfer"  # a processor re-sent a transfer under a new event id
    NOT_A_DEPOSIT = "not_a_deposit"  # money leaving an account funds nothing


@dataclass(frozen=True, slots=True)
class RecordResult:
    outcome: RecordOutcome
    proposed_funding_id: str | None = None
    # Set when the workspace links automatically: the caller drives the ledger steps after commit.
    auto_linked_funding_id: str | None = None


async def record_and_match(
    uow: FundingUnitOfWork,
    command: RecordSettledTransfer,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> RecordResult:
    """The inbox row, the deposit and any proposal or automatic link commit together, so a
    redelivery has no second effect and a crash leaves either all of it or none."""
    async with uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return RecordResult(RecordOutcome.DUPLICATE_EVENT)
        result = RecordResult(RecordOutcome.NOT_A_DEPOSIT)
        if command.is_deposit:
            deposit = new_deposit(command, deposit_id=new_id(DEPOSIT_ID_PREFIX), now=clock())
            if await uow.deposits.add_if_new(deposit):
                result = await _match(uow, deposit, clock)
            else:
                result = RecordResult(RecordOutcome.DUPLICATE_TRANSFER)
        await uow.commit()
    logger.info(
        "settled transfer %s/%s: %s",
        command.processor,
        command.transfer_id,
        result.outcome.value,
        extra={"event_id": event_id, "proposed_funding_id": result.proposed_funding_id},
    )
    return result


async def _match(uow: FundingUnitOfWork, deposit: Deposit, clock: Clock) -> RecordResult:
    reference = normalize_payment_reference(deposit.payment_reference)
    if reference is None:
        return RecordResult(RecordOutcome.RECORDED)
    funding = await uow.fundings.find_by_payment_reference(reference, for_update=True)
    if funding is None or funding.status is not FundingStatus.AWAITING_FUNDS:
        return RecordResult(RecordOutcome.RECORDED)
    now = clock()
    await uow.deposits.mark_proposed(deposit.id, funding.id, now)
    workspace = await uow.workspaces.get(funding.workspace_id)
    if workspace is None or not workspace.auto_link_deposits:
        return RecordResult(RecordOutcome.RECORDED, proposed_funding_id=funding.id)
    try:
        await claim_deposit(uow, funding, deposit, AUTO_LINK_ACTOR, now)
    except FundingError as refusal:
        # Wrong amount or currency: a proposal for a person to look at, never an automatic link.
        logger.info("deposit %s not linked automatically to %s: %s", deposit.id, funding.id, refusal.detail)
        return RecordResult(RecordOutcome.RECORDED, proposed_funding_id=funding.id)
    return RecordResult(RecordOutcome.RECORDED, proposed_funding_id=funding.id, auto_linked_funding_id=funding.id)


async def record_settled_transfer(
    uow: FundingUnitOfWork,
    command: RecordSettledTransfer,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> RecordOutcome:
    result = await record_and_match(uow, command, consumer=consumer, event_id=event_id, topic=topic, clock=clock)
    return result.outcome


async def get_deposit(uow: FundingUnitOfWork, deposit_id: str, *, owner_workspace: str | None) -> Deposit | None:
    """`owner_workspace`: a workspace key sees only deposits on its receiving accounts (None: a
    platform key, which sees all)."""
    async with uow:
        return await uow.deposits.get(deposit_id, owner_workspace=owner_workspace)


async def list_deposits(
    uow: FundingUnitOfWork, *, linked: bool | None, starting_after: str | None, limit: int, owner_workspace: str | None
) -> Sequence[Deposit]:
    assert limit >= 1, "a page holds at least one item"
    async with uow:
        deposits = await uow.deposits.list(
            linked=linked, starting_after=starting_after, limit=limit, owner_workspace=owner_workspace
        )
    assert len(deposits) <= limit, "repository returned more than asked"
    return deposits
