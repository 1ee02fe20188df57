"""What the reconciliation use cases need from storage; adapters implement it, unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from clearway.reconciliation.domain.external_transactions import ExternalTransaction, MatchStatus


class ExternalTransactionRepository(Protocol):
    async def add_if_new(self, transaction: ExternalTransaction) -> bool:
        """Insert unless `(processor, transfer_id)` exists; True if inserted."""

    async def get(self, transaction_id: str) -> ExternalTransaction | None: ...

    async def list(
        self, *, status: MatchStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[ExternalTransaction]:
        """Up to `limit` transactions with ids after `starting_after`, in id order."""


class Inbox(Protocol):
    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        """True the first time `consumer` sees `event_id`; False on every redelivery."""


class ReconciliationUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def external_transactions(self) -> ExternalTransactionRepository: ...

    @property
    def inbox(self) -> Inbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
