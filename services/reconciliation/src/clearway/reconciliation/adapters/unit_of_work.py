"""The SQL unit of work: the platform's transaction with reconciliation's repositories on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.db import UnitOfWork
from clearway.reconciliation.adapters.repository import SqlExternalTransactionRepository, SqlInbox


class SqlReconciliationUnitOfWork(UnitOfWork):
    external_transactions: SqlExternalTransactionRepository
    inbox: SqlInbox

    def bind(self, session: AsyncSession) -> None:
        self.external_transactions = SqlExternalTransactionRepository(session)
        self.inbox = SqlInbox(session)
