"""Dual approval (seed 001's admin settlement flow), audited step by step.

One principal asks for the settlement of a pending withdrawal (202 with the approval request);
a different principal approves it, and the payout goes to its rail, or rejects it, and the
reservation is released. The requester deciding their own request is refused (SAME_APPROVER).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearway.payout.domain.approvals import (
    APPROVAL_REQUEST_ID_PREFIX,
    AUDIT_ENTRY_ID_PREFIX,
    Actor,
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
)
from clearway.payout.domain.errors import BusinessRuleError, ConflictError, NotFoundError
from clearway.payout.domain.withdrawals import Withdrawal, WithdrawalStatus
from clearway.payout.service import event_builders, payouts
from clearway.payout.service.context import PayoutContext
from clearway.payout.service.ports import PayoutUnitOfWork
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger

logger = get_logger("clearway.payout.approvals")

APPROVAL_REQUEST = "approval_request"


@dataclass(frozen=True, slots=True)
class ApprovalView:
    request: ApprovalRequest
    withdrawal: Withdrawal
    audit: Sequence[AuditEntry]


def audit_entry(
    actor: Actor, action: str, entity_type: str, entity_id: str, now: datetime, **detail: Any
) -> AuditEntry:
    return AuditEntry(
        id=new_id(AUDIT_ENTRY_ID_PREFIX),
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor.name,
        actor_roles=actor.roles,
        at=now,
        detail=detail,
    )


async def request_settlement(context: PayoutContext, actor: Actor, withdrawal_id: str) -> ApprovalRequest:
    async with context.unit_of_work() as uow:
        withdrawal = await uow.withdrawals.get(withdrawal_id, for_update=True)
        if withdrawal is None or withdrawal.status is WithdrawalStatus.RESERVING:
            raise NotFoundError(f"No withdrawal {withdrawal_id}.", code="WITHDRAWAL_NOT_FOUND")
        if withdrawal.status.is_terminal:
            raise BusinessRuleError(
                f"Withdrawal {withdrawal_id} is already {withdrawal.status.value}.",
                code="WITHDRAWAL_TERMINAL",
                current_status=withdrawal.status.value,
            )
        pending = await uow.approvals.pending_for(withdrawal_id)
        if pending is not None:
            return pending  # asking twice is one request
        if withdrawal.status is not WithdrawalStatus.PENDING_APPROVAL:
            raise ConflictError(
                f"Withdrawal {withdrawal_id} is {withdrawal.status.value}; it is already approved.",
                code="ILLEGAL_STATE_TRANSITION",
                current_status=withdrawal.status.value,
            )
        now = context.clock()
        request = ApprovalRequest(
            id=new_id(APPROVAL_REQUEST_ID_PREFIX),
            withdrawal_id=withdrawal_id,
            status=ApprovalStatus.PENDING,
            requested_by=actor.name,
            requested_at=now,
        )
        await uow.approvals.add(request)
        await uow.audit.add(audit_entry(actor, "settlement_requested", APPROVAL_REQUEST, request.id, now))
        await uow.commit()
    logger.info("settlement requested", approval_request_id=request.id, withdrawal_id=withdrawal_id, by=actor.name)
    return request


async def _locked(uow: PayoutUnitOfWork, approval_id: str) -> tuple[ApprovalRequest, Withdrawal]:
    request = await uow.approvals.get(approval_id, for_update=True)
    if request is None:
        raise NotFoundError(f"No approval request {approval_id}.", code="APPROVAL_REQUEST_NOT_FOUND")
    withdrawal = await uow.withdrawals.get(request.withdrawal_id, for_update=True)
    assert withdrawal is not None, "an approval request names an existing withdrawal"
    return request, withdrawal


async def approve(context: PayoutContext, actor: Actor, approval_id: str) -> ApprovalView:
    async with context.unit_of_work() as uow:
        request, withdrawal = await _locked(uow, approval_id)
        now = context.clock()
        decided = request.approved_by(actor, now)
        approved = withdrawal.approved(actor.name, now)
        await uow.approvals.update(decided)
        await uow.withdrawals.update(approved)
        await uow.audit.add(audit_entry(actor, "approved", APPROVAL_REQUEST, approval_id, now))
        await uow.events.add(event_builders.approved(approved, await payouts.masked_account(uow, approved), now))
        await uow.commit()
    logger.info("withdrawal approved", approval_request_id=approval_id, withdrawal_id=approved.id, by=actor.name)
    executed = await payouts.execute(context, approved)
    return await get_approval_request(context, approval_id, withdrawal=executed)


async def reject(context: PayoutContext, actor: Actor, approval_id: str, reason: str) -> ApprovalView:
    async with context.unit_of_work() as uow:
        request, withdrawal = await _locked(uow, approval_id)
        now = context.clock()
        decided = request.rejected_by(actor, reason, now)
        rejected = withdrawal.rejected(reason, now)
        await uow.approvals.update(decided)
        await uow.withdrawals.update(rejected)
        await uow.audit.add(audit_entry(actor, "rejected", APPROVAL_REQUEST, approval_id, now, reason=reason))
        masked = await payouts.masked_account(uow, rejected)
        await uow.events.add(event_builders.rejected(rejected, masked, actor.name, now))
        await uow.commit()
    logger.info("withdrawal rejected", approval_request_id=approval_id, withdrawal_id=rejected.id, by=actor.name)
    released = await payouts.converge(context, rejected)
    return await get_approval_request(context, approval_id, withdrawal=released)


async def approve_automatically(context: PayoutContext, withdrawal: Withdrawal, actor: Actor) -> Withdrawal:
    """A paid payable under the configured amount needs no second person (issue 8 §5)."""
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None
        if current.status is not WithdrawalStatus.PENDING_APPROVAL:
            return current
        now = context.clock()
        approved = current.approved(actor.name, now)
        await uow.withdrawals.update(approved)
        await uow.audit.add(audit_entry(actor, "auto_approved", "withdrawal", approved.id, now))
        await uow.events.add(event_builders.approved(approved, await payouts.masked_account(uow, approved), now))
        await uow.commit()
    return await payouts.execute(context, approved)


async def get_approval_request(
    context: PayoutContext, approval_id: str, *, withdrawal: Withdrawal | None = None
) -> ApprovalView:
    async with context.unit_of_work() as uow:
        request = await uow.approvals.get(approval_id)
        if request is None:
            raise NotFoundError(f"No approval request {approval_id}.", code="APPROVAL_REQUEST_NOT_FOUND")
        if withdrawal is None:
            withdrawal = await uow.withdrawals.get(request.withdrawal_id)
            assert withdrawal is not None
        audit = await uow.audit.for_entity(APPROVAL_REQUEST, approval_id)
    return ApprovalView(request=request, withdrawal=withdrawal, audit=audit)


async def list_approval_requests(
    context: PayoutContext, *, status: ApprovalStatus | None, starting_after: str | None, limit: int
) -> Sequence[ApprovalRequest]:
    async with context.unit_of_work() as uow:
        return await uow.approvals.list(
            status=status.value if status else None, starting_after=starting_after, limit=limit
        )
