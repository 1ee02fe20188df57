"""Payable use cases: create, read, edit, approve, unapprove, cancel, and record the payout outcome.

Approving in a workspace whose balance covers the payable pays it at once (pre-funding); the
ledger calls for that run after the approval has committed, never inside its transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from clearway.funding.domain.errors import ConflictError, NotFoundError, RuleViolationError
from clearway.funding.domain.payables import (
    PAYABLE_ID_PREFIX,
    Payable,
    PayableFilters,
    PayableStatus,
    PayoutDecision,
    RecordPayoutOutcome,
)
from clearway.funding.service import balance_payments, event_builders
from clearway.funding.service.context import Clock, FundingContext, utc_now
from clearway.funding.service.ports import FundingUnitOfWork, LedgerUnavailableError
from clearway.platform.ids import new_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewPayable:
    payee_id: str
    amount_minor: int
    currency: str
    description: str
    external_id: str | None
    due_date: date | None
    metadata: dict[str, Any]


def _not_found(payable_id: str) -> NotFoundError:
    return NotFoundError(f"No payable {payable_id}.", code="PAYABLE_NOT_FOUND", payable_id=payable_id)


async def create_payable(context: FundingContext, workspace_id: str, actor: str, new: NewPayable) -> Payable:
    # A payee is a ledger identity: its wallet is where the money will land.
    if not await context.ledger.identity_exists(new.payee_id):
        raise RuleViolationError(
            f"The payee {new.payee_id} is not a ledger identity.", code="UNKNOWN_PAYEE", payee_id=new.payee_id
        )
    now = context.clock()
    payable = Payable(
        id=new_id(PAYABLE_ID_PREFIX),
        workspace_id=workspace_id,
        payee_id=new.payee_id,
        amount_minor=new.amount_minor,
        currency=new.currency,
        description=new.description,
        external_id=new.external_id,
        due_date=new.due_date,
        metadata=new.metadata,
        status=PayableStatus.CREATED,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    async with context.unit_of_work() as uow:
        if new.external_id is not None:
            existing = await uow.payables.find_by_external_id(workspace_id, new.external_id)
            if existing is not None:
                raise ConflictError(
                    f"Payable {existing.id} already has external_id {new.external_id!r}.",
                    code="DUPLICATE_EXTERNAL_ID",
                    payable_id=existing.id,
                )
        await uow.payables.add(payable)
        await uow.events.add(event_builders.payable_created(payable, now))
        await uow.commit()
    return payable


async def get_payable(context: FundingContext, workspace_id: str, payable_id: str) -> Payable:
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id)
    # Another workspace's payable is as unknown as a missing one.
    if payable is None or payable.workspace_id != workspace_id:
        raise _not_found(payable_id)
    return payable


async def list_payables(
    context: FundingContext, workspace_id: str, filters: PayableFilters, *, starting_after: str | None, limit: int
) -> Sequence[Payable]:
    assert limit >= 1
    async with context.unit_of_work() as uow:
        found = await uow.payables.list(workspace_id, filters, starting_after=starting_after, limit=limit)
    assert len(found) <= limit
    return found


async def update_payable(
    context: FundingContext, workspace_id: str, payable_id: str, changes: dict[str, Any]
) -> Payable:
    if "payee_id" in changes and not await context.ledger.identity_exists(changes["payee_id"]):
        raise RuleViolationError(
            f"The payee {changes['payee_id']} is not a ledger identity.",
            code="UNKNOWN_PAYEE",
            payee_id=changes["payee_id"],
        )
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id, for_update=True)
        if payable is None or payable.workspace_id != workspace_id:
            raise _not_found(payable_id)
        edited = payable.edit(context.clock(), **changes)
        await uow.payables.save(edited)
        await uow.commit()
    return edited


async def approve_payable(context: FundingContext, workspace_id: str, payable_id: str, approver: str) -> Payable:
    now = context.clock()
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id, for_update=True)
        if payable is None or payable.workspace_id != workspace_id:
            raise _not_found(payable_id)
        approved = payable.approve(approver, now)
        await uow.payables.save(approved)
        await uow.events.add(event_builders.payable_approved(approved, now))
        await uow.commit()
    # Pre-funding: a balance that covers it pays it now; otherwise it waits for funds.
    try:
        return await balance_payments.pay_if_covered(context, approved)
    except LedgerUnavailableError:
        # The approval stands; the recovery loop pays it once the ledger answers again.
        logger.warning("ledger unavailable while paying approved payable %s from balance", payable_id)
        return await get_payable(context, workspace_id, payable_id)


async def unapprove_payable(context: FundingContext, workspace_id: str, payable_id: str, actor: str) -> Payable:
    now = context.clock()
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id, for_update=True)
        if payable is None or payable.workspace_id != workspace_id:
            raise _not_found(payable_id)
        unapproved = payable.unapprove(actor, now)
        await uow.payables.save(unapproved)
        await uow.events.add(event_builders.payable_unapproved(unapproved, now))
        await uow.commit()
    return unapproved


async def cancel_payable(context: FundingContext, workspace_id: str, payable_id: str, actor: str) -> Payable:
    now = context.clock()
    async with context.unit_of_work() as uow:
        payable = await uow.payables.get(payable_id, for_update=True)
        if payable is None or payable.workspace_id != workspace_id:
            raise _not_found(payable_id)
        cancelled = payable.cancel(actor, now)
        await uow.payables.save(cancelled)
        await uow.events.add(event_builders.payable_cancelled(cancelled, now))
        await uow.commit()
    return cancelled


class PayoutRecording(StrEnum):
    """What recording a payout outcome did: the domain's decision, or why none was asked for."""

    APPLIED = PayoutDecision.APPLIED.value
    ALREADY_RECORDED = PayoutDecision.ALREADY_RECORDED.value
    OUT_OF_ORDER = PayoutDecision.OUT_OF_ORDER.value
    OTHER_WITHDRAWAL = PayoutDecision.OTHER_WITHDRAWAL.value
    NOT_PAID = PayoutDecision.NOT_PAID.value
    DUPLICATE_EVENT = "duplicate_event"  # the same event delivered again
    NOT_A_PAYABLE = "not_a_payable"  # a withdrawal the user asked for
    UNKNOWN_PAYABLE = "unknown_payable"


# Outcomes that say payout and funding disagree: worth a person's look, never a retry.
_DISAGREEMENTS = frozenset(
    {
        PayoutRecording.OUT_OF_ORDER,
        PayoutRecording.OTHER_WITHDRAWAL,
        PayoutRecording.NOT_PAID,
        PayoutRecording.UNKNOWN_PAYABLE,
    }
)


async def record_payout_outcome(
    uow: FundingUnitOfWork,
    command: RecordPayoutOutcome,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> PayoutRecording:
    """Payout's word on the withdrawal paying a payable out, kept on the payable. The inbox row and
    the outcome commit together; an outcome the payable cannot take is logged and acknowledged (a
    retry would not change the answer)."""
    async with uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return PayoutRecording.DUPLICATE_EVENT
        result = PayoutRecording.NOT_A_PAYABLE
        payable: Payable | None = None
        if command.payable_id is not None:
            payable = await uow.payables.get(command.payable_id, for_update=True)
            if payable is None:
                result = PayoutRecording.UNKNOWN_PAYABLE
            else:
                decision, recorded = payable.record_payout(command, clock())
                if decision is PayoutDecision.APPLIED:
                    await uow.payables.save_payout_outcome(recorded)
                result = PayoutRecording(decision.value)
        await uow.commit()
    logger.log(
        logging.WARNING if result in _DISAGREEMENTS else logging.INFO,
        "payout outcome %s of withdrawal %s for payable %s: %s",
        command.status.value,
        command.withdrawal_id,
        command.payable_id,
        result.value,
        extra={
            "event_id": event_id,
            "topic": topic,
            # What the payable held before: the outcome it kept when this one was not applied.
            "recorded_payout_status": payable.payout_status if payable is not None else None,
            "recorded_withdrawal_id": payable.payout_withdrawal_id if payable is not None else None,
        },
    )
    return result
