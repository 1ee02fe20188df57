"""The SQL unit of work: the platform's transaction with payout's repositories on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.repository import SqlWithdrawalMethodRepository
from clearway.platform.db import UnitOfWork


class SqlPayoutUnitOfWork(UnitOfWork):
    withdrawal_methods: SqlWithdrawalMethodRepository

    def bind(self, session: AsyncSession) -> None:
        self.withdrawal_methods = SqlWithdrawalMethodRepository(session)
