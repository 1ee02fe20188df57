"""What the authorization use cases need from storage; adapters implement it, unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from clearway.authorization.domain.card_accounts import CardAccount


class CardAccountRepository(Protocol):
    async def get(self, card_account_id: str) -> CardAccount | None: ...

    async def list(self, *, customer_id: str | None, starting_after: str | None, limit: int) -> Sequence[CardAccount]:
        """Up to `limit` card accounts with ids after `starting_after`, in id order."""


class AuthorizationUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def card_accounts(self) -> CardAccountRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
