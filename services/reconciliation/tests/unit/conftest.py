"""In-memory fakes of reconciliation's storage ports (fakes, not mocks: they behave like the real thing)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import pytest

from clearway.devstack.testing import InMemoryInbox, keyset_page
from clearway.reconciliation.domain.external_transactions import ExternalTransaction, MatchStatus


class FakeExternalTransactions:
    def __init__(self) -> None:
        self.rows: dict[str, ExternalTransaction] = {}

    async def add_if_new(self, transaction: ExternalTransaction) -> bool:
        key = (transaction.processor, transaction.transfer_id)
        if any((row.processor, row.transfer_id) == key for row in self.rows.values()):
            return False
        self.rows[transaction.id] = transaction
        return True

    async def get(self, transaction_id: str) -> ExternalTransaction | None:
        return self.rows.get(transaction_id)

    async def list(
        self, *, status: MatchStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[ExternalTransaction]:
        return keyset_page(self.rows.values(), starting_after=starting_after, limit=limit, status=status)


class FakeReconciliationUnitOfWork:
    """Changes made inside the block survive only if `commit()` was called, as with a transaction."""

    def __init__(self) -> None:
        self.external_transactions = FakeExternalTransactions()
        self.inbox = InMemoryInbox()
        self._snapshot: tuple[dict[str, ExternalTransaction], set[tuple[str, str]]] | None = None

    async def __aenter__(self) -> Self:
        self._snapshot = (dict(self.external_transactions.rows), copy.copy(self.inbox.seen))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._snapshot is not None
        self.external_transactions.rows, self.inbox.seen = self._snapshot
        self._snapshot = None

    async def commit(self) -> None:
        self._snapshot = (dict(self.external_transactions.rows), copy.copy(self.inbox.seen))


@pytest.fixture
def reconciliation_uow() -> FakeReconciliationUnitOfWork:
    return FakeReconciliationUnitOfWork()
