"""Payables' SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.orm import PayableRow, WorkspaceRow
from clearway.funding.domain.payables import Payable, PayableFilters, PayableStatus, PayoutStatus
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation


def _payable(row: PayableRow) -> Payable:
    return Payable(
        id=row.id,
        workspace_id=row.workspace_id,
        payee_id=row.payee_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        description=row.description,
        external_id=row.external_id,
        due_date=row.due_date,
        metadata=dict(row.metadata_ or {}),
        status=PayableStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=repaired_updated_at("payable", row.id, row.created_at, row.updated_at),
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        unapproved_by=row.unapproved_by,
        unapproved_at=row.unapproved_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
        funding_id=row.funding_id,
        pay_attempts=row.pay_attempts,
        hold_transaction_id=row.hold_transaction_id,
        ledger_reference=row.ledger_reference,
        paid_at=row.paid_at,
        payout_status=PayoutStatus(row.payout_status) if row.payout_status is not None else None,
        payout_withdrawal_id=row.payout_withdrawal_id,
        payout_receipt=row.payout_receipt,
        payout_failure_code=row.payout_failure_code,
        payout_updated_at=row.payout_updated_at,
    )


def _payout_columns(payable: Payable) -> dict[str, Any]:
    return {
        "payout_status": payable.payout_status.value if payable.payout_status is not None else None,
        "payout_withdrawal_id": payable.payout_withdrawal_id,
        "payout_receipt": payable.payout_receipt,
        "payout_failure_code": payable.payout_failure_code,
        "payout_updated_at": payable.payout_updated_at,
    }


def _columns(payable: Payable) -> dict[str, Any]:
    """Every column but the payout outcome, which only `save_payout_outcome` writes (a new payable has none)."""
    return {
        "workspace_id": payable.workspace_id,
        "payee_id": payable.payee_id,
        "amount_minor": payable.amount_minor,
        "currency": payable.currency,
        "description": payable.description,
        "external_id": payable.external_id,
        "due_date": payable.due_date,
        "metadata_": payable.metadata,
        "status": payable.status.value,
        "created_by": payable.created_by,
        "approved_by": payable.approved_by,
        "approved_at": payable.approved_at,
        "unapproved_by": payable.unapproved_by,
        "unapproved_at": payable.unapproved_at,
        "cancelled_by": payable.cancelled_by,
        "cancelled_at": payable.cancelled_at,
        "funding_id": payable.funding_id,
        "pay_attempts": payable.pay_attempts,
        "hold_transaction_id": payable.hold_transaction_id,
        "ledger_reference": payable.ledger_reference,
        "paid_at": payable.paid_at,
        "created_at": payable.created_at,
        "updated_at": payable.updated_at,
    }


class SqlPayableRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, payable: Payable) -> None:
        self._session.add(PayableRow(id=payable.id, **_columns(payable)))
        await self._session.flush()

    async def get(self, payable_id: str, *, for_update: bool = False) -> Payable | None:
        query = select(PayableRow).where(PayableRow.id == payable_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _payable(row) if row is not None else None

    async def get_many(self, payable_ids: Sequence[str], *, for_update: bool = False) -> Sequence[Payable]:
        """In id order, so concurrent callers lock rows in one order and cannot deadlock."""
        query = select(PayableRow).where(PayableRow.id.in_(list(payable_ids))).order_by(PayableRow.id)
        if for_update:
            query = query.with_for_update()
        return [_payable(row) for row in await self._session.scalars(query)]

    async def find_by_external_id(self, workspace_id: str, external_id: str) -> Payable | None:
        row = await self._session.scalar(
            select(PayableRow).where(PayableRow.workspace_id == workspace_id, PayableRow.external_id == external_id)
        )
        return _payable(row) if row is not None else None

    async def save(self, payable: Payable) -> None:
        result = await self._session.execute(
            update(PayableRow).where(PayableRow.id == payable.id).values(**_columns(payable))
        )
        assert result.rowcount == 1, f"payable {payable.id} vanished"  # type: ignore[attr-defined]

    async def save_payout_outcome(self, payable: Payable) -> None:
        """Write only the payout outcome (and `updated_at`): the rest of the row is not this writer's."""
        result = await self._session.execute(
            update(PayableRow)
            .where(PayableRow.id == payable.id)
            .values(
                **_payout_columns(payable),
                updated_at=updated_at_not_before_creation(PayableRow.created_at, payable.updated_at),
            )
        )
        assert result.rowcount == 1, f"payable {payable.id} vanished"  # type: ignore[attr-defined]

    async def list(
        self, workspace_id: str, filters: PayableFilters, *, starting_after: str | None, limit: int
    ) -> Sequence[Payable]:
        query = select(PayableRow).where(PayableRow.workspace_id == workspace_id).order_by(PayableRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(PayableRow.id > starting_after)
        if filters.status is not None:
            query = query.where(PayableRow.status == filters.status.value)
        if filters.payee_id is not None:
            query = query.where(PayableRow.payee_id == filters.payee_id)
        if filters.currency is not None:
            query = query.where(PayableRow.currency == filters.currency)
        if filters.external_id is not None:
            query = query.where(PayableRow.external_id == filters.external_id)
        if filters.funding_id is not None:
            query = query.where(PayableRow.funding_id == filters.funding_id)
        return [_payable(row) for row in await self._session.scalars(query)]

    async def for_funding(self, funding_id: str, *, for_update: bool = False) -> Sequence[Payable]:
        query = select(PayableRow).where(PayableRow.funding_id == funding_id).order_by(PayableRow.id)
        if for_update:
            query = query.with_for_update()
        return [_payable(row) for row in await self._session.scalars(query)]

    async def waiting(self, workspace_id: str, currency: str, limit: int) -> Sequence[Payable]:
        """Approved payables not in any funding, in approval order (the order they get paid in)."""
        query = (
            select(PayableRow)
            .where(
                PayableRow.workspace_id == workspace_id,
                PayableRow.currency == currency,
                PayableRow.status == PayableStatus.APPROVED.value,
                PayableRow.funding_id.is_(None),
            )
            .order_by(PayableRow.approved_at, PayableRow.id)
            .limit(limit)
        )
        return [_payable(row) for row in await self._session.scalars(query)]

    async def waiting_groups(self, limit: int) -> Sequence[tuple[str, str]]:
        """(workspace, currency) pairs with payables waiting for funds, in workspaces that have a wallet."""
        query = (
            select(PayableRow.workspace_id, PayableRow.currency)
            .join(WorkspaceRow, WorkspaceRow.id == PayableRow.workspace_id)
            .where(
                PayableRow.status == PayableStatus.APPROVED.value,
                PayableRow.funding_id.is_(None),
                WorkspaceRow.ledger_identity_id.is_not(None),
            )
            .group_by(PayableRow.workspace_id, PayableRow.currency)
            .order_by(PayableRow.workspace_id, PayableRow.currency)
            .limit(limit)
        )
        return [(workspace_id, currency) for workspace_id, currency in await self._session.execute(query)]

    async def paying(self, limit: int) -> Sequence[str]:
        """Ids of payables with a pay-from-balance in progress (possibly left by a crash), oldest first."""
        query = (
            select(PayableRow.id)
            .where(PayableRow.status == PayableStatus.PAYING.value)
            .order_by(PayableRow.updated_at)
            .limit(limit)
        )
        return list(await self._session.scalars(query))
