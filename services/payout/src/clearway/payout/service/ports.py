"""What the payout use cases need from storage; adapters implement it, unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from clearway.payout.domain.withdrawal_methods import WithdrawalMethod


class WithdrawalMethodRepository(Protocol):
    async def get(self, method_id: str) -> WithdrawalMethod | None: ...

    async def list(self, *, user_id: str | None, starting_after: str | None, limit: int) -> Sequence[WithdrawalMethod]:
        """Up to `limit` methods with ids after `starting_after`, in id order."""


class PayoutUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def withdrawal_methods(self) -> WithdrawalMethodRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
