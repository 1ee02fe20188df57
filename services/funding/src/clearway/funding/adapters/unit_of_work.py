"""The SQL unit of work: the platform's transaction with funding's repositories on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.events import SqlEventOutbox
from clearway.funding.adapters.funding_repository import SqlFundingRepository
from clearway.funding.adapters.payable_repository import SqlPayableRepository
from clearway.funding.adapters.repository import SqlDepositRepository, SqlInbox
from clearway.funding.adapters.workspace_repository import SqlWorkspaceRepository
from clearway.platform.db import UnitOfWork


class SqlFundingUnitOfWork(UnitOfWork):
    deposits: SqlDepositRepository
    inbox: SqlInbox
    payables: SqlPayableRepository
    fundings: SqlFundingRepository
    workspaces: SqlWorkspaceRepository
    events: SqlEventOutbox

    def bind(self, session: AsyncSession) -> None:
        self.deposits = SqlDepositRepository(session)
        self.inbox = SqlInbox(session)
        self.payables = SqlPayableRepository(session)
        self.fundings = SqlFundingRepository(session)
        self.workspaces = SqlWorkspaceRepository(session)
        self.events = SqlEventOutbox(session)
