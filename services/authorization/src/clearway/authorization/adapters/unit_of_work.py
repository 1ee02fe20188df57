"""The SQL unit of work: the platform's transaction with authorization's repositories on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.repository import SqlCardAccountRepository
from clearway.platform.db import UnitOfWork


class SqlAuthorizationUnitOfWork(UnitOfWork):
    card_accounts: SqlCardAccountRepository

    def bind(self, session: AsyncSession) -> None:
        self.card_accounts = SqlCardAccountRepository(session)
