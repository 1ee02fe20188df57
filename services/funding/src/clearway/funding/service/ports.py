"""What the funding use cases need from storage; adapters implement it, unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from clearway.funding.domain.deposits import Deposit


class DepositRepository(Protocol):
    async def add_if_new(self, deposit: Deposit) -> bool:
        """Insert unless `(processor, transfer_id)` exists; True if inserted."""

    async def get(self, deposit_id: str) -> Deposit | None: ...

    async def list(self, *, linked: bool | None, starting_after: str | None, limit: int) -> Sequence[Deposit]:
        """Up to `limit` deposits with ids after `starting_after`, in id order."""


class Inbox(Protocol):
    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        """True the first time `consumer` sees `event_id`; False on every redelivery."""


class FundingUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def deposits(self) -> DepositRepository: ...

    @property
    def inbox(self) -> Inbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
