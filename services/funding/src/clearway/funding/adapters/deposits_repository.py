"""Deposits' SQL, and the links reconciliation asked for before a deposit was recorded. Rows go in
and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.orm import DepositRow, PendingDepositLinkRow, WorkspaceReceivingAccountRow
from clearway.funding.domain.deposits import Deposit, PendingLink
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation


def _deposit(row: DepositRow) -> Deposit:
    return Deposit(
        id=row.id,
        processor=row.processor,
        transfer_id=row.transfer_id,
        direction=cast(Literal["inbound", "outbound"], row.direction),
        amount_minor=row.amount_minor,
        currency=row.currency,
        account_id=row.account_id,
        payment_reference=row.payment_reference,
        counterparty_name=row.counterparty_name,
        counterparty_account=row.counterparty_account,
        settled_at=row.settled_at,
        linked_funding_id=row.linked_funding_id,
        created_at=row.created_at,
        updated_at=repaired_updated_at("deposit", row.id, row.created_at, row.updated_at),
        proposed_funding_id=row.proposed_funding_id,
    )


def _on_accounts_of(workspace_id: str) -> ColumnElement[bool]:
    """The deposits that settled on one of the workspace's receiving accounts."""
    return DepositRow.account_id.in_(
        select(WorkspaceReceivingAccountRow.account_id).where(WorkspaceReceivingAccountRow.workspace_id == workspace_id)
    )


class SqlDepositRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, deposit: Deposit) -> bool:
        inserted = await self._session.scalar(
            insert(DepositRow)
            .values(**asdict(deposit))
            .on_conflict_do_nothing(index_elements=[DepositRow.processor, DepositRow.transfer_id])
            .returning(DepositRow.id)
        )
        return inserted is not None

    async def get(self, deposit_id: str, *, owner_workspace: str | None = None) -> Deposit | None:
        """`owner_workspace`: only a deposit on that workspace's receiving accounts (None: any)."""
        query = select(DepositRow).where(DepositRow.id == deposit_id)
        if owner_workspace is not None:
            query = query.where(_on_accounts_of(owner_workspace))
        row = await self._session.scalar(query)
        return _deposit(row) if row is not None else None

    async def get_for_update(self, deposit_id: str) -> Deposit | None:
        row = await self._session.scalar(select(DepositRow).where(DepositRow.id == deposit_id).with_for_update())
        return _deposit(row) if row is not None else None

    async def find_by_transfer(
        self, transfer_id: str, processor: str | None, *, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        query = select(DepositRow).where(DepositRow.transfer_id == transfer_id).order_by(DepositRow.id).limit(10)
        if processor is not None:
            query = query.where(DepositRow.processor == processor)
        if owner_workspace is not None:
            query = query.where(_on_accounts_of(owner_workspace))
        return [_deposit(row) for row in await self._session.scalars(query)]

    async def mark_linked(self, deposit_id: str, funding_id: str, now: datetime) -> None:
        result = await self._session.execute(
            update(DepositRow)
            .where(DepositRow.id == deposit_id, DepositRow.linked_funding_id.is_(None))
            .values(
                linked_funding_id=funding_id,
                # Not before the row's creation: the consumer that inserted it ran on its own clock.
                updated_at=updated_at_not_before_creation(DepositRow.created_at, now),
            )
        )
        # The caller holds the row lock and checked it was free: anything else is a bug.
        assert result.rowcount == 1, f"deposit {deposit_id} was not free to link"  # type: ignore[attr-defined]

    async def mark_proposed(self, deposit_id: str, funding_id: str, now: datetime) -> None:
        await self._session.execute(
            update(DepositRow)
            .where(DepositRow.id == deposit_id)
            .values(
                proposed_funding_id=funding_id,
                updated_at=updated_at_not_before_creation(DepositRow.created_at, now),
            )
        )

    async def proposed_for(self, funding_id: str, limit: int) -> Sequence[Deposit]:
        query = (
            select(DepositRow)
            .where(DepositRow.proposed_funding_id == funding_id, DepositRow.linked_funding_id.is_(None))
            .order_by(DepositRow.id)
            .limit(limit)
        )
        return [_deposit(row) for row in await self._session.scalars(query)]

    async def list(
        self, *, linked: bool | None, starting_after: str | None, limit: int, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        query = select(DepositRow).order_by(DepositRow.id).limit(limit)
        if owner_workspace is not None:
            query = query.where(_on_accounts_of(owner_workspace))
        if starting_after is not None:
            query = query.where(DepositRow.id > starting_after)
        if linked is True:
            query = query.where(DepositRow.linked_funding_id.is_not(None))
        elif linked is False:
            query = query.where(DepositRow.linked_funding_id.is_(None))
        rows = await self._session.scalars(query)
        return [_deposit(row) for row in rows]

    async def add_pending_link(self, pending: PendingLink) -> None:
        await self._session.execute(
            insert(PendingDepositLinkRow)
            .values(**asdict(pending))
            .on_conflict_do_nothing(
                index_elements=[PendingDepositLinkRow.transfer_id, PendingDepositLinkRow.funding_id]
            )
        )

    async def pending_links_ready(self, limit: int) -> Sequence[PendingLink]:
        """Pending links whose deposit is now recorded, oldest first."""
        deposit_recorded = exists().where(DepositRow.transfer_id == PendingDepositLinkRow.transfer_id)
        query = (
            select(PendingDepositLinkRow)
            .where(deposit_recorded)
            .order_by(PendingDepositLinkRow.created_at, PendingDepositLinkRow.transfer_id)
            .limit(limit)
        )
        return [
            PendingLink(
                transfer_id=row.transfer_id, funding_id=row.funding_id, match_id=row.match_id, created_at=row.created_at
            )
            for row in await self._session.scalars(query)
        ]

    async def drop_pending_link(self, transfer_id: str, funding_id: str) -> None:
        await self._session.execute(
            delete(PendingDepositLinkRow).where(
                PendingDepositLinkRow.transfer_id == transfer_id, PendingDepositLinkRow.funding_id == funding_id
            )
        )
