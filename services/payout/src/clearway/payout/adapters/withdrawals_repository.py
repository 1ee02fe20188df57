"""All of the withdrawals' and payment intents' SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import PaymentIntentRow, WithdrawalRow
from clearway.payout.domain.batches import BatchTotals
from clearway.payout.domain.withdrawals import (
    VISIBLE,
    HoldStatus,
    IntentStatus,
    Origin,
    PaymentIntent,
    Withdrawal,
    WithdrawalStatus,
)
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation

# Reservations in these states hold money and count against the rolling day.
_COUNTING = [status.value for status in WithdrawalStatus if status.is_open]
_VISIBLE = [status.value for status in VISIBLE]
# A decided withdrawal whose hold is still inflight has a ledger step to take.
_DECIDED = [status.value for status in WithdrawalStatus if status.is_terminal]


def _withdrawal(row: WithdrawalRow) -> Withdrawal:
    values = {column: getattr(row, column) for column in WithdrawalRow.__table__.columns.keys()}  # noqa: SIM118
    values["status"] = WithdrawalStatus(row.status)
    values["hold_status"] = HoldStatus(row.hold_status)
    values["origin"] = Origin(row.origin)
    values["updated_at"] = repaired_updated_at("withdrawal", row.id, row.created_at, row.updated_at)
    return Withdrawal(**values)


def _withdrawal_values(withdrawal: Withdrawal) -> dict[str, Any]:
    values = asdict(withdrawal)
    values["status"] = withdrawal.status.value
    values["hold_status"] = withdrawal.hold_status.value
    values["origin"] = withdrawal.origin.value
    return values


def _intent(row: PaymentIntentRow) -> PaymentIntent:
    return PaymentIntent(
        id=row.id,
        user_id=row.user_id,
        purpose=row.purpose,
        amount_minor=row.amount_minor,
        currency=row.currency,
        status=IntentStatus(row.status),
        provider_method=row.provider_method,
        provider_reference=row.provider_reference,
        receipt=row.receipt,
        created_at=row.created_at,
        updated_at=repaired_updated_at("payment intent", row.id, row.created_at, row.updated_at),
    )


class SqlWithdrawalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_wallet(self, user_id: str, currency: str) -> None:
        # A transaction-scoped advisory lock: no row to create first, released at commit or rollback.
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"payout-wallet:{user_id}:{currency}"},
        )

    async def add(self, withdrawal: Withdrawal, intent: PaymentIntent) -> None:
        intent_values = asdict(intent)
        intent_values["status"] = intent.status.value
        self._session.add(PaymentIntentRow(**intent_values))
        await self._session.flush()
        self._session.add(WithdrawalRow(**_withdrawal_values(withdrawal)))
        await self._session.flush()

    async def _one(self, *conditions: Any, for_update: bool = False) -> Withdrawal | None:
        query = select(WithdrawalRow).where(*conditions)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _withdrawal(row) if row is not None else None

    async def get(self, withdrawal_id: str, *, for_update: bool = False) -> Withdrawal | None:
        return await self._one(WithdrawalRow.id == withdrawal_id, for_update=for_update)

    async def get_by_idempotency_key(self, user_id: str, idempotency_key: str) -> Withdrawal | None:
        return await self._one(WithdrawalRow.user_id == user_id, WithdrawalRow.idempotency_key == idempotency_key)

    async def get_by_payable(self, payable_id: str) -> Withdrawal | None:
        return await self._one(WithdrawalRow.payable_id == payable_id)

    async def get_by_provider_reference(self, provider_reference: str, *, for_update: bool) -> Withdrawal | None:
        return await self._one(WithdrawalRow.provider_reference == provider_reference, for_update=for_update)

    async def delete_unreserved(self, withdrawal_id: str) -> None:
        intent_id = await self._session.scalar(
            delete(WithdrawalRow)
            .where(WithdrawalRow.id == withdrawal_id, WithdrawalRow.status == WithdrawalStatus.RESERVING.value)
            .returning(WithdrawalRow.payment_intent_id)
        )
        if intent_id is not None:
            await self._session.execute(delete(PaymentIntentRow).where(PaymentIntentRow.id == intent_id))

    async def update(self, withdrawal: Withdrawal) -> None:
        values = _withdrawal_values(withdrawal)
        del values["id"], values["created_at"]
        values["updated_at"] = updated_at_not_before_creation(WithdrawalRow.created_at, withdrawal.updated_at)
        result = await self._session.execute(
            update(WithdrawalRow).where(WithdrawalRow.id == withdrawal.id).values(**values)
        )
        assert result.rowcount == 1, f"withdrawal {withdrawal.id} vanished"  # type: ignore[attr-defined]
        self._session.expire_all()

    async def intent(self, intent_id: str) -> PaymentIntent:
        row = await self._session.get(PaymentIntentRow, intent_id)
        assert row is not None, "a withdrawal's payment intent is created with it (foreign key)"
        return _intent(row)

    async def update_intent(self, intent: PaymentIntent) -> None:
        await self._session.execute(
            update(PaymentIntentRow)
            .where(PaymentIntentRow.id == intent.id)
            .values(
                status=intent.status.value,
                receipt=intent.receipt,
                updated_at=updated_at_not_before_creation(PaymentIntentRow.created_at, intent.updated_at),
            )
        )
        self._session.expire_all()

    async def open_total_since(self, user_id: str, currency: str, since: datetime) -> int:
        total = await self._session.scalar(
            select(func.coalesce(func.sum(WithdrawalRow.amount_minor), 0)).where(
                WithdrawalRow.user_id == user_id,
                WithdrawalRow.currency == currency,
                WithdrawalRow.origin == Origin.USER.value,
                WithdrawalRow.created_at >= since,
                WithdrawalRow.status.in_(_COUNTING),
            )
        )
        return int(total or 0)

    async def list_for_user(
        self, user_id: str | None, *, status: WithdrawalStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[Withdrawal]:
        query = select(WithdrawalRow).where(WithdrawalRow.status.in_(_VISIBLE)).order_by(WithdrawalRow.id).limit(limit)
        if user_id is not None:
            query = query.where(WithdrawalRow.user_id == user_id)
        if status is not None:
            query = query.where(WithdrawalRow.status == status.value)
        if starting_after is not None:
            query = query.where(WithdrawalRow.id > starting_after)
        return [_withdrawal(row) for row in await self._session.scalars(query)]

    async def _older(self, before: datetime, limit: int, *conditions: Any) -> Sequence[Withdrawal]:
        query = (
            select(WithdrawalRow)
            .where(WithdrawalRow.updated_at < before, *conditions)
            .order_by(WithdrawalRow.updated_at)
            .limit(limit)
        )
        return [_withdrawal(row) for row in await self._session.scalars(query)]

    async def reserving_older_than(self, before: datetime, limit: int) -> Sequence[Withdrawal]:
        return await self._older(before, limit, WithdrawalRow.status == WithdrawalStatus.RESERVING.value)

    async def approved_unsubmitted_older_than(self, before: datetime, limit: int) -> Sequence[Withdrawal]:
        return await self._older(before, limit, WithdrawalRow.status == WithdrawalStatus.APPROVED.value)

    async def with_ledger_due(self, before: datetime, limit: int) -> Sequence[Withdrawal]:
        inflight = WithdrawalRow.hold_status == HoldStatus.INFLIGHT.value
        committed = WithdrawalRow.hold_status == HoldStatus.COMMITTED.value
        return await self._older(
            before,
            limit,
            or_(
                and_(WithdrawalRow.status.in_(_DECIDED), inflight),
                and_(WithdrawalRow.status == WithdrawalStatus.REVERSED.value, committed),
            ),
        )

    async def lock_due_for_status_check(self, now: datetime, limit: int) -> Sequence[Withdrawal]:
        rows = await self._session.scalars(
            select(WithdrawalRow)
            .where(
                WithdrawalRow.status == WithdrawalStatus.PROCESSING.value,
                WithdrawalRow.next_status_check_at.is_not(None),
                WithdrawalRow.next_status_check_at <= now,
            )
            .order_by(WithdrawalRow.next_status_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_withdrawal(row) for row in rows]

    async def batch_totals(self, batch_ids: Sequence[str]) -> dict[str, BatchTotals]:
        if not batch_ids:
            return {}
        rows = await self._session.execute(
            select(WithdrawalRow.batch_id, func.count(), func.sum(WithdrawalRow.amount_minor))
            .where(WithdrawalRow.batch_id.in_(batch_ids))
            .group_by(WithdrawalRow.batch_id)
        )
        return {str(batch_id): BatchTotals(count, int(total)) for batch_id, count, total in rows.all()}

    async def in_batch(self, batch_id: str) -> Sequence[Withdrawal]:
        rows = await self._session.scalars(
            select(WithdrawalRow).where(WithdrawalRow.batch_id == batch_id).order_by(WithdrawalRow.id)
        )
        return [_withdrawal(row) for row in rows]
