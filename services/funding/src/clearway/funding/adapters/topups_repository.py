"""All of the top-ups' SQL (migration 0003 owns the table). Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.orm import TopupRow
from clearway.funding.domain.topup_errors import ProviderReferenceConflictError
from clearway.funding.domain.topups import ResolvedBy, Topup, TopupStatus
from clearway.platform.timestamps import repaired_updated_at


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
            raise ProviderReferenceConflictError(
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
