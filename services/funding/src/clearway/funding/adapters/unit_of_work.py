"""The SQL unit of work: the platform's transaction with every funding repository on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.funding.adapters.deposits_repository import SqlDepositRepository
from clearway.funding.adapters.events import SqlEventOutbox
from clearway.funding.adapters.fundings_repository import SqlFundingRepository
from clearway.funding.adapters.payables_repository import SqlPayableRepository
from clearway.funding.adapters.topups_repository import SqlTopupRepository
from clearway.funding.adapters.workspaces_repository import SqlWorkspaceRepository
from clearway.platform.db import UnitOfWork
from clearway.platform.inbox import SqlInbox


class SqlFundingUnitOfWork(UnitOfWork):
    deposits: SqlDepositRepository
    inbox: SqlInbox
    payables: SqlPayableRepository
    fundings: SqlFundingRepository
    workspaces: SqlWorkspaceRepository
    topups: SqlTopupRepository
    events: SqlEventOutbox

    def bind(self, session: AsyncSession) -> None:
        self.deposits = SqlDepositRepository(session)
        self.inbox = SqlInbox(session)
        self.payables = SqlPayableRepository(session)
        self.fundings = SqlFundingRepository(session)
        self.workspaces = SqlWorkspaceRepository(session)
        self.topups = SqlTopupRepository(session)
        self.events = SqlEventOutbox(session)
