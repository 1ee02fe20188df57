"""Workspaces' SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.orm import WorkspaceReceivingAccountRow, WorkspaceRow
from clearway.funding.domain.workspaces import Workspace
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation


def _workspace(row: WorkspaceRow) -> Workspace:
    return Workspace(
        id=row.id,
        ledger_identity_id=row.ledger_identity_id,
        auto_link_deposits=row.auto_link_deposits,
        created_at=row.created_at,
        updated_at=repaired_updated_at("workspace", row.id, row.created_at, row.updated_at),
    )


class SqlWorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, workspace_id: str) -> Workspace | None:
        row = await self._session.get(WorkspaceRow, workspace_id)
        return _workspace(row) if row is not None else None

    async def ensure(self, workspace_id: str, *, auto_link_deposits: bool, now: datetime) -> Workspace:
        """Get-or-create: concurrent first uses of a workspace agree on one row."""
        await self._session.execute(
            insert(WorkspaceRow)
            .values(
                id=workspace_id,
                ledger_identity_id=None,
                auto_link_deposits=auto_link_deposits,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[WorkspaceRow.id])
        )
        row = await self._session.scalar(select(WorkspaceRow).where(WorkspaceRow.id == workspace_id))
        assert row is not None
        return _workspace(row)

    async def set_identity_once(self, workspace_id: str, identity_id: str, now: datetime) -> Workspace:
        """The first identity stored wins; a racing second one is left unused."""
        await self._session.execute(
            update(WorkspaceRow)
            .where(WorkspaceRow.id == workspace_id, WorkspaceRow.ledger_identity_id.is_(None))
            .values(
                ledger_identity_id=identity_id, updated_at=updated_at_not_before_creation(WorkspaceRow.created_at, now)
            )
        )
        row = await self._session.scalar(select(WorkspaceRow).where(WorkspaceRow.id == workspace_id))
        assert row is not None and row.ledger_identity_id is not None
        return _workspace(row)

    async def set_auto_link(self, workspace_id: str, enabled: bool, now: datetime) -> None:
        await self._session.execute(
            update(WorkspaceRow)
            .where(WorkspaceRow.id == workspace_id)
            .values(auto_link_deposits=enabled, updated_at=updated_at_not_before_creation(WorkspaceRow.created_at, now))
        )

    async def receiving_accounts(self, workspace_id: str) -> tuple[str, ...]:
        rows = await self._session.scalars(
            select(WorkspaceReceivingAccountRow.account_id)
            .where(WorkspaceReceivingAccountRow.workspace_id == workspace_id)
            .order_by(WorkspaceReceivingAccountRow.account_id)
        )
        return tuple(rows)

    async def set_receiving_accounts(self, workspace_id: str, account_ids: Sequence[str], now: datetime) -> list[str]:
        """Replace the workspace's receiving accounts; -> the ones another workspace owns (nothing is
        changed then: the caller rolls back)."""
        await self._session.execute(
            delete(WorkspaceReceivingAccountRow).where(WorkspaceReceivingAccountRow.workspace_id == workspace_id)
        )
        if not account_ids:
            return []
        claimed = await self._session.scalars(
            insert(WorkspaceReceivingAccountRow)
            .values([{"account_id": a, "workspace_id": workspace_id, "created_at": now} for a in account_ids])
            .on_conflict_do_nothing(index_elements=[WorkspaceReceivingAccountRow.account_id])
            .returning(WorkspaceReceivingAccountRow.account_id)
        )
        return sorted(set(account_ids) - set(claimed))
