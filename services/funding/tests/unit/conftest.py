"""In-memory fakes of funding's storage ports (fakes, not mocks: they behave like the real thing)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import pytest

from clearway.funding.domain.deposits import Deposit


class FakeDeposits:
    def __init__(self) -> None:
        self.rows: dict[str, Deposit] = {}

    async def add_if_new(self, deposit: Deposit) -> bool:
        if any((d.processor, d.transfer_id) == (deposit.processor, deposit.transfer_id) for d in self.rows.values()):
            return False
        self.rows[deposit.id] = deposit
        return True

    async def get(self, deposit_id: str) -> Deposit | None:
        return self.rows.get(deposit_id)

    async def list(self, *, linked: bool | None, starting_after: str | None, limit: int) -> Sequence[Deposit]:
        found = sorted(self.rows.values(), key=lambda deposit: deposit.id)
        if starting_after is not None:
            found = [deposit for deposit in found if deposit.id > starting_after]
        if linked is not None:
            found = [deposit for deposit in found if (deposit.linked_funding_id is not None) == linked]
        return found[:limit]


class FakeInbox:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        if (consumer, event_id) in self.seen:
            return False
        self.seen.add((consumer, event_id))
        return True


class FakeFundingUnitOfWork:
    """Changes made inside the block survive only if `commit()` was called, as with a transaction."""

    def __init__(self) -> None:
        self.deposits = FakeDeposits()
        self.inbox = FakeInbox()
        self.commits = 0
        self._snapshot: tuple[dict[str, Deposit], set[tuple[str, str]]] | None = None

    async def __aenter__(self) -> Self:
        self._snapshot = (dict(self.deposits.rows), copy.copy(self.inbox.seen))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._snapshot is not None
        self.deposits.rows, self.inbox.seen = self._snapshot
        self._snapshot = None

    async def commit(self) -> None:
        self._snapshot = (dict(self.deposits.rows), copy.copy(self.inbox.seen))
        self.commits += 1


@pytest.fixture
def funding_uow() -> FakeFundingUnitOfWork:
    return FakeFundingUnitOfWork()
