"""All of the approval requests' and the audit log's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import ApprovalRequestRow, AuditEntryRow
from clearway.payout.domain.approvals import ApprovalRequest, ApprovalStatus, AuditEntry


def _request(row: ApprovalRequestRow) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        withdrawal_id=row.withdrawal_id,
        status=ApprovalStatus(row.status),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
    )


class SqlApprovalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: ApprovalRequest) -> None:
        values = asdict(request)
        values["status"] = request.status.value
        self._session.add(ApprovalRequestRow(**values))
        await self._session.flush()

    async def get(self, approval_id: str, *, for_update: bool = False) -> ApprovalRequest | None:
        query = select(ApprovalRequestRow).where(ApprovalRequestRow.id == approval_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _request(row) if row is not None else None

    async def pending_for(self, withdrawal_id: str) -> ApprovalRequest | None:
        row = await self._session.scalar(
            select(ApprovalRequestRow).where(
                ApprovalRequestRow.withdrawal_id == withdrawal_id,
                ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
            )
        )
        return _request(row) if row is not None else None

    async def update(self, request: ApprovalRequest) -> None:
        await self._session.execute(
            update(ApprovalRequestRow)
            .where(ApprovalRequestRow.id == request.id)
            .values(
                status=request.status.value,
                decided_by=request.decided_by,
                decided_at=request.decided_at,
                reason=request.reason,
            )
        )
        self._session.expire_all()

    async def list(self, *, status: str | None, starting_after: str | None, limit: int) -> Sequence[ApprovalRequest]:
        query = select(ApprovalRequestRow).order_by(ApprovalRequestRow.id).limit(limit)
        if status is not None:
            query = query.where(ApprovalRequestRow.status == status)
        if starting_after is not None:
            query = query.where(ApprovalRequestRow.id > starting_after)
        return [_request(row) for row in await self._session.scalars(query)]


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> None:
        values = asdict(entry)
        values["actor_roles"] = list(entry.actor_roles)
        self._session.add(AuditEntryRow(**values))
        await self._session.flush()

    async def for_entity(self, entity_type: str, entity_id: str) -> Sequence[AuditEntry]:
        rows = await self._session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.entity_type == entity_type, AuditEntryRow.entity_id == entity_id)
            .order_by(AuditEntryRow.id)
        )
        return [
            AuditEntry(
                id=row.id,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                action=row.action,
                actor=row.actor,
                actor_roles=tuple(row.actor_roles),
                at=row.at,
                detail=dict(row.detail),
            )
            for row in rows
        ]
