"""Top-ups in PostgreSQL: the `topups` mapping (migration 0003 owns the schema), its SQL, and the unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, Integer, Text, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from clearway.funding.adapters.orm import FundingBase
from clearway.funding.domain.topups import ProviderReferenceConflict, ResolvedBy, Topup, TopupStatus
from clearway.platform.db import UnitOfWork
from clearway.platform.outbox import add_model_event
from clearway.platform.timestamps import repaired_updated_at

EVENT_SOURCE = "clearway.funding"


class TopupRow(FundingBase):
    __tablename__ = "topups"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(Text)
    identity_id: Mapped[str] = mapped_column(Text)
    wallet_balance_id: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    account_reference: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    checkout_request_id: Mapped[str | None] = mapped_column(Text)
    merchant_request_id: Mapped[str | None] = mapped_column(Text)
    result_code: Mapped[int | None] = mapped_column(Integer)
    result_desc: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)
    ledger_reference: Mapped[str | None] = mapped_column(Text)
    ledger_transaction_id: Mapped[str | None] = mapped_column(Text)
    callback_fingerprint: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(Text)
    status_checks: Mapped[int] = mapped_column(Integer)
    next_status_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _topup(row: TopupRow) -> Topup:
    return Topup(
        id=row.id,
        workspace_id=row.workspace_id,
        identity_id=row.identity_id,
        wallet_balance_id=row.wallet_balance_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        phone=row.phone,
        provider=row.provider,
        account_reference=row.account_reference,
        idempotency_key=row.idempotency_key,
        status=TopupStatus(row.status),
        checkout_request_id=row.checkout_request_id,
        merchant_request_id=row.merchant_request_id,
        result_code=row.result_code,
        result_desc=row.result_desc,
        failure_reason=row.failure_reason,
        receipt=row.receipt,
        ledger_reference=row.ledger_reference,
        ledger_transaction_id=row.ledger_transaction_id,
        callback_fingerprint=row.callback_fingerprint,
        resolved_by=ResolvedBy(row.resolved_by) if row.resolved_by is not None else None,
        status_checks=row.status_checks,
        next_status_check_at=row.next_status_check_at,
        created_at=row.created_at,
        updated_at=repaired_updated_at("top-up", row.id, row.created_at, row.updated_at),
    )


def _values(topup: Topup) -> dict[str, Any]:
    values = asdict(topup)
    values["status"] = topup.status.value
    values["resolved_by"] = topup.resolved_by.value if topup.resolved_by is not None else None
    return values


CHECKOUT_REQUEST_ID_CONSTRAINT = "uq_topups_checkout_request_id"


class SqlTopupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, topup: Topup) -> bool:
        inserted = await self._session.scalar(
            insert(TopupRow)
            .values(**_values(topup))
            .on_conflict_do_nothing(index_elements=[TopupRow.workspace_id, TopupRow.idempotency_key])
            .returning(TopupRow.id)
        )
        return inserted is not None

    async def get(self, topup_id: str) -> Topup | None:
        row = await self._session.scalar(select(TopupRow).where(TopupRow.id == topup_id))
        return _topup(row) if row is not None else None

    async def get_by_idempotency_key(self, workspace_id: str, idempotency_key: str) -> Topup | None:
        row = await self._session.scalar(
            select(TopupRow).where(TopupRow.workspace_id == workspace_id, TopupRow.idempotency_key == idempotency_key)
        )
        return _topup(row) if row is not None else None

    async def get_by_checkout_request_id(self, checkout_request_id: str, *, for_update: bool) -> Topup | None:
        query = select(TopupRow).where(TopupRow.checkout_request_id == checkout_request_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _topup(row) if row is not None else None

    async def get_for_update(self, topup_id: str) -> Topup | None:
        row = await self._session.scalar(select(TopupRow).where(TopupRow.id == topup_id).with_for_update())
        return _topup(row) if row is not None else None

    async def update(self, topup: Topup) -> None:
        values = _values(topup)
        del values["id"]
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(update(TopupRow).where(TopupRow.id == topup.id).values(**values))
        except IntegrityError as error:
            if CHECKOUT_REQUEST_ID_CONSTRAINT not in str(error.orig):
                raise
            raise ProviderReferenceConflict(
                f"The provider's request id {topup.checkout_request_id} already belongs to another top-up."
            ) from error
        assert result.rowcount == 1, f"top-up {topup.id} vanished"  # type: ignore[attr-defined]
        # Rows read earlier in this session must not shadow the new values.
        self._session.expire_all()

    async def lock_due_for_status_check(self, now: datetime, limit: int) -> Sequence[Topup]:
        assert limit >= 1
        rows = await self._session.scalars(
            select(TopupRow)
            .where(
                TopupRow.status == TopupStatus.PENDING.value,
                TopupRow.next_status_check_at.is_not(None),
                TopupRow.next_status_check_at <= now,
            )
            .order_by(TopupRow.next_status_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_topup(row) for row in rows]


class SqlTopupEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def publish(self, topic: str, key: str, event: BaseModel) -> None:
        await add_model_event(self._session, topic, key, event, source=EVENT_SOURCE, subject=key)


class SqlTopupUnitOfWork(UnitOfWork):
    """The platform's transaction with the top-up repository and the outbox on its session."""

    topups: SqlTopupRepository
    events: SqlTopupEvents

    def bind(self, session: AsyncSession) -> None:
        self.topups = SqlTopupRepository(session)
        self.events = SqlTopupEvents(session)
