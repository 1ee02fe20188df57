"""In-memory fakes of funding's storage ports (fakes, not mocks: they behave like the real thing)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

import pytest

from clearway.devstack.testing import InMemoryInbox
from clearway.funding.domain.deposits import Deposit, PendingLink
from clearway.funding.domain.fundings import Funding
from clearway.funding.domain.payables import Payable
from clearway.funding.domain.workspaces import Workspace


class FakeDeposits:
    def __init__(self) -> None:
        self.rows: dict[str, Deposit] = {}
        self.pending_links: dict[tuple[str, str], PendingLink] = {}
        self.receiving_accounts: dict[str, str] = {}  # account id -> the workspace receiving on it

    def _owned(self, deposit: Deposit, owner_workspace: str | None) -> bool:
        return owner_workspace is None or self.receiving_accounts.get(deposit.account_id) == owner_workspace

    async def add_if_new(self, deposit: Deposit) -> bool:
        if any((d.processor, d.transfer_id) == (deposit.processor, deposit.transfer_id) for d in self.rows.values()):
            return False
        self.rows[deposit.id] = deposit
        return True

    async def get(self, deposit_id: str, *, owner_workspace: str | None = None) -> Deposit | None:
        found = self.rows.get(deposit_id)
        return found if found is not None and self._owned(found, owner_workspace) else None

    async def get_for_update(self, deposit_id: str) -> Deposit | None:
        return self.rows.get(deposit_id)

    async def find_by_transfer(
        self, transfer_id: str, processor: str | None, *, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        found = sorted(self.rows.values(), key=lambda deposit: deposit.id)
        return [
            d
            for d in found
            if d.transfer_id == transfer_id and processor in (None, d.processor) and self._owned(d, owner_workspace)
        ]

    async def list(
        self, *, linked: bool | None, starting_after: str | None, limit: int, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        found = sorted((d for d in self.rows.values() if self._owned(d, owner_workspace)), key=lambda d: d.id)
        if starting_after is not None:
            found = [deposit for deposit in found if deposit.id > starting_after]
        if linked is not None:
            found = [deposit for deposit in found if (deposit.linked_funding_id is not None) == linked]
        return found[:limit]

    async def mark_linked(self, deposit_id: str, funding_id: str, now: datetime) -> None:
        assert self.rows[deposit_id].linked_funding_id is None
        self.rows[deposit_id] = replace(self.rows[deposit_id], linked_funding_id=funding_id, updated_at=now)

    async def mark_proposed(self, deposit_id: str, funding_id: str, now: datetime) -> None:
        self.rows[deposit_id] = replace(self.rows[deposit_id], proposed_funding_id=funding_id, updated_at=now)

    async def add_pending_link(self, pending: PendingLink) -> None:
        self.pending_links.setdefault((pending.transfer_id, pending.funding_id), pending)


class FakeFundings:
    def __init__(self) -> None:
        self.rows: dict[str, Funding] = {}

    async def get(self, funding_id: str, *, for_update: bool = False) -> Funding | None:
        return self.rows.get(funding_id)

    async def find_by_payment_reference(self, payment_reference: str, *, for_update: bool = False) -> Funding | None:
        return next((f for f in self.rows.values() if f.payment_reference == payment_reference), None)

    async def save(self, funding: Funding) -> None:
        assert funding.id in self.rows
        self.rows[funding.id] = funding


class FakePayables:
    """Payables as recording a payout outcome sees them: read (locked) and their payout columns written."""

    def __init__(self) -> None:
        self.rows: dict[str, Payable] = {}

    async def get(self, payable_id: str, *, for_update: bool = False) -> Payable | None:
        return self.rows.get(payable_id)

    async def save_payout_outcome(self, payable: Payable) -> None:
        stored = self.rows[payable.id]
        # Only the payout columns and `updated_at` (never before creation), as the SQL writes them.
        self.rows[payable.id] = replace(
            stored,
            payout_status=payable.payout_status,
            payout_withdrawal_id=payable.payout_withdrawal_id,
            payout_receipt=payable.payout_receipt,
            payout_failure_code=payable.payout_failure_code,
            payout_updated_at=payable.payout_updated_at,
            updated_at=max(stored.created_at, payable.updated_at),
        )


class FakeWorkspaces:
    def __init__(self) -> None:
        self.rows: dict[str, Workspace] = {}

    async def get(self, workspace_id: str) -> Workspace | None:
        return self.rows.get(workspace_id)


Snapshot = tuple[
    dict[str, Deposit],
    dict[tuple[str, str], PendingLink],
    set[tuple[str, str]],
    dict[str, Funding],
    dict[str, Payable],
]


class FakeFundingUnitOfWork:
    """Changes made inside the block survive only if `commit()` was called, as with a transaction."""

    def __init__(self) -> None:
        self.deposits = FakeDeposits()
        self.inbox = InMemoryInbox()
        self.fundings = FakeFundings()
        self.payables = FakePayables()
        self.workspaces = FakeWorkspaces()
        self.commits = 0
        self._snapshot: Snapshot | None = None

    def _take_snapshot(self) -> Snapshot:
        return (
            dict(self.deposits.rows),
            dict(self.deposits.pending_links),
            copy.copy(self.inbox.seen),
            dict(self.fundings.rows),
            dict(self.payables.rows),
        )

    async def __aenter__(self) -> Self:
        self._snapshot = self._take_snapshot()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._snapshot is not None
        (
            self.deposits.rows,
            self.deposits.pending_links,
            self.inbox.seen,
            self.fundings.rows,
            self.payables.rows,
        ) = self._snapshot
        self._snapshot = None

    async def commit(self) -> None:
        self._snapshot = self._take_snapshot()
        self.commits += 1


@pytest.fixture
def funding_uow() -> FakeFundingUnitOfWork:
    return FakeFundingUnitOfWork()
