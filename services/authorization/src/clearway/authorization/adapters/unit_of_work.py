"""The SQL unit of work: the platform's transaction with every authorization repository on its session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.authorizations_repository import SqlAuthorizationRepository
from clearway.authorization.adapters.billing_repository import SqlBillingRepository
from clearway.authorization.adapters.card_accounts_repository import SqlCardAccountRepository
from clearway.authorization.adapters.cards_repository import SqlCardRepository
from clearway.authorization.adapters.clearings_repository import SqlClearingRepository
from clearway.authorization.adapters.events import SqlEventOutbox
from clearway.platform.db import UnitOfWork
from clearway.platform.inbox import SqlInbox


class SqlAuthorizationUnitOfWork(UnitOfWork):
    card_accounts: SqlCardAccountRepository
    cards: SqlCardRepository
    authorizations: SqlAuthorizationRepository
    clearings: SqlClearingRepository
    events: SqlEventOutbox
    inbox: SqlInbox
    billing: SqlBillingRepository

    def bind(self, session: AsyncSession) -> None:
        self.card_accounts = SqlCardAccountRepository(session)
        self.cards = SqlCardRepository(session)
        self.authorizations = SqlAuthorizationRepository(session)
        self.clearings = SqlClearingRepository(session)
        self.events = SqlEventOutbox(session)
        self.inbox = SqlInbox(session)
        self.billing = SqlBillingRepository(session)
