"""The SQL unit of work: the platform's transaction with every reconciliation repository on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.db import UnitOfWork
from clearway.platform.inbox import SqlInbox
from clearway.reconciliation.adapters.batches_repository import SqlBatchRepository
from clearway.reconciliation.adapters.breaks_repository import SqlAuditLog, SqlBreakRepository, SqlStatementRepository
from clearway.reconciliation.adapters.card_clearings_repository import SqlCardClearingRepository
from clearway.reconciliation.adapters.events import SqlEventOutbox
from clearway.reconciliation.adapters.expectations_repository import SqlExpectationRepository
from clearway.reconciliation.adapters.links_repository import SqlLinkRepository
from clearway.reconciliation.adapters.matches_repository import SqlMatchRepository
from clearway.reconciliation.adapters.transactions_repository import SqlExternalTransactionRepository


class SqlReconciliationUnitOfWork(UnitOfWork):
    links: SqlLinkRepository
    external_transactions: SqlExternalTransactionRepository
    expectations: SqlExpectationRepository
    matches: SqlMatchRepository
    batches: SqlBatchRepository
    card_clearings: SqlCardClearingRepository
    breaks: SqlBreakRepository
    statements: SqlStatementRepository
    audit: SqlAuditLog
    inbox: SqlInbox
    events: SqlEventOutbox

    def bind(self, session: AsyncSession) -> None:
        self.links = SqlLinkRepository(session)
        self.external_transactions = SqlExternalTransactionRepository(session)
        self.expectations = SqlExpectationRepository(session)
        self.matches = SqlMatchRepository(session)
        self.batches = SqlBatchRepository(session)
        self.card_clearings = SqlCardClearingRepository(session)
        self.breaks = SqlBreakRepository(session)
        self.statements = SqlStatementRepository(session)
        self.audit = SqlAuditLog(session)
        self.inbox = SqlInbox(session)
        self.events = SqlEventOutbox(session)
