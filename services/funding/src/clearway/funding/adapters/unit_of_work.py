"""The SQL unit of work: the platform's transaction with funding's repositories on its session."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearway.funding.adapters.events import SqlEventOutbox
from clearway.funding.adapters.funding_repository import SqlFundingRepository
from clearway.funding.adapters.payable_repository import SqlPayableRepository
from clearway.funding.adapters.repository import SqlDepositRepository, SqlInbox
from clearway.funding.adapters.workspace_repository import SqlWorkspaceRepository
from clearway.platform.db import UnitOfWork


class SqlFundingUnitOfWork:
    deposits: SqlDepositRepository
    inbox: SqlInbox
    payables: SqlPayableRepository
    fundings: SqlFundingRepository
    workspaces: SqlWorkspaceRepository
    events: SqlEventOutbox

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._transaction = UnitOfWork(session_factory)

    async def __aenter__(self) -> Self:
        await self._transaction.__aenter__()
        session = self._transaction.session
        self.deposits = SqlDepositRepository(session)
        self.inbox = SqlInbox(session)
        self.payables = SqlPayableRepository(session)
        self.fundings = SqlFundingRepository(session)
        self.workspaces = SqlWorkspaceRepository(session)
        self.events = SqlEventOutbox(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._transaction.__aexit__(exc_type, exc, traceback)

    async def commit(self) -> None:
        await self._transaction.commit()
