"""Async engine and the unit of work: the only thing in a service that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def asyncpg_url(database_url: str) -> str:
    """Any PostgreSQL URL (libpq or SQLAlchemy) as a SQLAlchemy asyncpg URL."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def libpq_url(database_url: str) -> str:
    """Any PostgreSQL URL (libpq or SQLAlchemy) as a plain `postgresql://` URL for asyncpg."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class UnitOfWork:
    """One database transaction. Leaving the block without `commit()` rolls back.

    Handlers take a `UnitOfWork`, do their reads and writes through `session`, add
    outbox events through the same session, and call `commit()` once at the end, so a
    state change and the events that announce it land together or not at all.

    A service subclasses it and overrides `bind` to put its repositories on the session.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "UnitOfWork used outside `async with`"
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self.committed = False
        self.bind(self._session)
        return self

    def bind(self, session: AsyncSession) -> None:
        """Attach the service's repositories to this transaction's session (subclasses)."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if not self.committed:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True

    async def rollback(self) -> None:
        await self.session.rollback()


@asynccontextmanager
async def unit_of_work(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    async with UnitOfWork(session_factory) as uow:
        yield uow
