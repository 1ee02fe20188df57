"""All of the withdrawal methods' SQL. Rows go in and come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import WithdrawalMethodRow
from clearway.payout.domain.withdrawal_methods import MethodType, WithdrawalMethod
from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation


def _method(row: WithdrawalMethodRow) -> WithdrawalMethod:
    return WithdrawalMethod(
        id=row.id,
        user_id=row.user_id,
        method_type=MethodType(row.method_type),
        provider=row.provider,
        account_number=row.account_number,
        account_number_masked=row.account_number_masked,
        currency=row.currency,
        account_holder_name=row.account_holder_name,
        bic=row.bic,
        label=row.label,
        is_primary=row.is_primary,
        verified=row.verified,
        active=row.active,
        created_at=row.created_at,
        updated_at=repaired_updated_at("withdrawal method", row.id, row.created_at, row.updated_at),
    )


def _values(method: WithdrawalMethod) -> dict[str, Any]:
    values = asdict(method)
    values["method_type"] = method.method_type.value
    return values


class SqlWithdrawalMethodRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, method: WithdrawalMethod) -> None:
        self._session.add(WithdrawalMethodRow(**_values(method)))
        await self._session.flush()

    async def get(self, method_id: str, *, for_update: bool = False) -> WithdrawalMethod | None:
        query = select(WithdrawalMethodRow).where(WithdrawalMethodRow.id == method_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _method(row) if row is not None else None

    async def list_for_user(
        self, user_id: str | None, *, active: bool | None, starting_after: str | None, limit: int
    ) -> Sequence[WithdrawalMethod]:
        query = select(WithdrawalMethodRow).order_by(WithdrawalMethodRow.id).limit(limit)
        if user_id is not None:
            query = query.where(WithdrawalMethodRow.user_id == user_id)
        if active is not None:
            query = query.where(WithdrawalMethodRow.active.is_(active))
        if starting_after is not None:
            query = query.where(WithdrawalMethodRow.id > starting_after)
        return [_method(row) for row in await self._session.scalars(query)]

    async def primary_for(self, user_id: str, currency: str | None = None) -> WithdrawalMethod | None:
        query = select(WithdrawalMethodRow).where(
            WithdrawalMethodRow.user_id == user_id, WithdrawalMethodRow.is_primary.is_(True)
        )
        if currency is not None:
            query = query.where(WithdrawalMethodRow.currency == currency)
        row = await self._session.scalar(query)
        return _method(row) if row is not None else None

    async def clear_primary(self, user_id: str, now: datetime) -> None:
        await self._session.execute(
            update(WithdrawalMethodRow)
            .where(WithdrawalMethodRow.user_id == user_id, WithdrawalMethodRow.is_primary.is_(True))
            .values(is_primary=False, updated_at=updated_at_not_before_creation(WithdrawalMethodRow.created_at, now))
        )
        # The partial unique index checks at once: the old primary must be gone before the new one lands.
        await self._session.flush()

    async def update(self, method: WithdrawalMethod) -> None:
        values = _values(method)
        del values["id"], values["created_at"]
        values["updated_at"] = updated_at_not_before_creation(WithdrawalMethodRow.created_at, method.updated_at)
        await self._session.execute(
            update(WithdrawalMethodRow).where(WithdrawalMethodRow.id == method.id).values(**values)
        )
        self._session.expire_all()
