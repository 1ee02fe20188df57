"""Fundings' SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.orm import FundingRow
from clearway.funding.domain.fundings import (
    UNFINISHED_STATUSES,
    Funding,
    FundingKind,
    FundingStatus,
    InvoiceLine,
    LinkedDeposit,
    Recipient,
)
from clearway.platform.timestamps import repaired_updated_at


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "amount_minor": line.amount_minor,
        "payable_id": line.payable_id,
        "payee_id": line.payee_id,
        "external_id": line.external_id,
    }


def _funding(row: FundingRow) -> Funding:
    deposit = None
    if row.transfer_id is not None:
        assert row.deposit_id and row.processor and row.account_id and row.linked_by and row.linked_at
        assert row.deposit_amount_minor is not None
        deposit = LinkedDeposit(
            deposit_id=row.deposit_id,
            processor=row.processor,
            transfer_id=row.transfer_id,
            account_id=row.account_id,
            amount_minor=row.deposit_amount_minor,
            linked_by=row.linked_by,
            linked_at=row.linked_at,
        )
    return Funding(
        id=row.id,
        workspace_id=row.workspace_id,
        kind=FundingKind(row.kind),
        status=FundingStatus(row.status),
        currency=row.currency,
        total_minor=row.total_minor,
        lines=tuple(InvoiceLine(**line) for line in row.lines),
        invoice_number=row.invoice_number,
        payment_reference=row.payment_reference,
        due_date=row.due_date,
        expires_at=row.expires_at,
        recipient=Recipient(name=row.recipient_name, email=row.recipient_email),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=repaired_updated_at("funding", row.id, row.created_at, row.updated_at),
        deposit=deposit,
        funded_at=row.funded_at,
        paid_out_at=row.paid_out_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
        invoice_sent_at=row.invoice_sent_at,
        invoice_send_attempts=row.invoice_send_attempts,
        request_key=row.request_key,
    )


def _columns(funding: Funding) -> dict[str, Any]:
    deposit = funding.deposit
    return {
        "workspace_id": funding.workspace_id,
        "kind": funding.kind.value,
        "status": funding.status.value,
        "currency": funding.currency,
        "total_minor": funding.total_minor,
        "lines": [_line_json(line) for line in funding.lines],
        "invoice_number": funding.invoice_number,
        "payment_reference": funding.payment_reference,
        "due_date": funding.due_date,
        "expires_at": funding.expires_at,
        "recipient_name": funding.recipient.name,
        "recipient_email": funding.recipient.email,
        "created_by": funding.created_by,
        "deposit_id": deposit.deposit_id if deposit else None,
        "processor": deposit.processor if deposit else None,
        "transfer_id": deposit.transfer_id if deposit else None,
        "account_id": deposit.account_id if deposit else None,
        "deposit_amount_minor": deposit.amount_minor if deposit else None,
        "linked_by": deposit.linked_by if deposit else None,
        "linked_at": deposit.linked_at if deposit else None,
        "funded_at": funding.funded_at,
        "paid_out_at": funding.paid_out_at,
        "cancelled_by": funding.cancelled_by,
        "cancelled_at": funding.cancelled_at,
        "invoice_sent_at": funding.invoice_sent_at,
        "invoice_send_attempts": funding.invoice_send_attempts,
        "request_key": funding.request_key,
        "created_at": funding.created_at,
        "updated_at": funding.updated_at,
    }


class SqlFundingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_invoice_sequence(self) -> int:
        value = await self._session.scalar(text("SELECT nextval('funding_invoice_number_seq')"))
        assert isinstance(value, int) and value >= 1
        return value

    async def add(self, funding: Funding) -> None:
        self._session.add(FundingRow(id=funding.id, **_columns(funding)))
        await self._session.flush()

    async def get_by_request_key(self, workspace_id: str, request_key: str) -> Funding | None:
        row = await self._session.scalar(
            select(FundingRow).where(FundingRow.workspace_id == workspace_id, FundingRow.request_key == request_key)
        )
        return _funding(row) if row is not None else None

    async def get(self, funding_id: str, *, for_update: bool = False) -> Funding | None:
        query = select(FundingRow).where(FundingRow.id == funding_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _funding(row) if row is not None else None

    async def find_by_payment_reference(self, payment_reference: str, *, for_update: bool = False) -> Funding | None:
        query = select(FundingRow).where(FundingRow.payment_reference == payment_reference)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _funding(row) if row is not None else None

    async def save(self, funding: Funding) -> None:
        result = await self._session.execute(
            update(FundingRow).where(FundingRow.id == funding.id).values(**_columns(funding))
        )
        assert result.rowcount == 1, f"funding {funding.id} vanished"  # type: ignore[attr-defined]

    async def list(
        self, workspace_id: str, *, status: FundingStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[Funding]:
        query = select(FundingRow).where(FundingRow.workspace_id == workspace_id).order_by(FundingRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(FundingRow.id > starting_after)
        if status is not None:
            query = query.where(FundingRow.status == status.value)
        return [_funding(row) for row in await self._session.scalars(query)]

    async def unfinished(self, limit: int) -> Sequence[str]:
        """Fundings whose deposit is linked but whose money has not finished moving."""
        query = (
            select(FundingRow.id)
            .where(FundingRow.status.in_([status.value for status in UNFINISHED_STATUSES]))
            .order_by(FundingRow.updated_at)
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    async def overdue(self, now: datetime, limit: int) -> Sequence[str]:
        query = (
            select(FundingRow.id)
            .where(FundingRow.status == FundingStatus.AWAITING_FUNDS.value, FundingRow.expires_at <= now)
            .order_by(FundingRow.expires_at)
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    async def unsent_invoices(self, attempts_max: int, created_before: datetime, limit: int) -> Sequence[str]:
        query = (
            select(FundingRow.id)
            .where(
                FundingRow.status == FundingStatus.AWAITING_FUNDS.value,
                FundingRow.invoice_sent_at.is_(None),
                FundingRow.invoice_send_attempts < attempts_max,
                FundingRow.created_at < created_before,
            )
            .order_by(FundingRow.id)
            .limit(limit)
        )
        return list(await self._session.scalars(query))
