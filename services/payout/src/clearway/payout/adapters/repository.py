"""All of payout's SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import WithdrawalMethodRow
from clearway.payout.domain.withdrawal_methods import MethodType, WithdrawalMethod
from clearway.platform.timestamps import repaired_updated_at


def _withdrawal_method(row: WithdrawalMethodRow) -> WithdrawalMethod:
    return WithdrawalMethod(
        id=row.id,
        user_id=row.user_id,
        method_type=MethodType(row.method_type),
        provider=row.provider,
        account_name=row.account_name,
        account_number=row.account_number,
        currency=row.currency,
        is_primary=row.is_primary,
        verified=row.verified,
        created_at=row.created_at,
        updated_at=repaired_updated_at("withdrawal method", row.id, row.created_at, row.updated_at),
    )


class SqlWithdrawalMethodRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, method_id: str) -> WithdrawalMethod | None:
        row = await self._session.get(WithdrawalMethodRow, method_id)
        return _withdrawal_method(row) if row is not None else None

    async def list(self, *, user_id: str | None, starting_after: str | None, limit: int) -> Sequence[WithdrawalMethod]:
        query = select(WithdrawalMethodRow).order_by(WithdrawalMethodRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(WithdrawalMethodRow.id > starting_after)
        if user_id is not None:
            query = query.where(WithdrawalMethodRow.user_id == user_id)
        rows = await self._session.scalars(query)
        return [_withdrawal_method(row) for row in rows]
