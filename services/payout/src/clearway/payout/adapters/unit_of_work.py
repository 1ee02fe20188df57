"""The SQL unit of work: the platform's transaction with every payout repository on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.approvals_repository import SqlApprovalRepository, SqlAuditLog
from clearway.payout.adapters.batches_repository import SqlBatchRepository
from clearway.payout.adapters.events import SqlEventOutbox
from clearway.payout.adapters.methods_repository import SqlWithdrawalMethodRepository
from clearway.payout.adapters.settings_repository import SqlSettingsRepository
from clearway.payout.adapters.withdrawals_repository import SqlWithdrawalRepository
from clearway.platform.db import UnitOfWork
from clearway.platform.inbox import SqlInbox


class SqlPayoutUnitOfWork(UnitOfWork):
    methods: SqlWithdrawalMethodRepository
    withdrawals: SqlWithdrawalRepository
    approvals: SqlApprovalRepository
    audit: SqlAuditLog
    settings: SqlSettingsRepository
    batches: SqlBatchRepository
    inbox: SqlInbox
    events: SqlEventOutbox

    def bind(self, session: AsyncSession) -> None:
        self.methods = SqlWithdrawalMethodRepository(session)
        self.withdrawals = SqlWithdrawalRepository(session)
        self.approvals = SqlApprovalRepository(session)
        self.audit = SqlAuditLog(session)
        self.settings = SqlSettingsRepository(session)
        self.batches = SqlBatchRepository(session)
        self.inbox = SqlInbox(session)
        self.events = SqlEventOutbox(session)
