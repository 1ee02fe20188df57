"""Paying a payable from the workspace balance refuses a hold answer the ledger contract does not allow."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace, TracebackType

import pytest

from clearway.funding.domain.payables import PayableStatus
from clearway.funding.domain.postings import Posting
from clearway.funding.domain.workspaces import Workspace
from clearway.funding.service import balance_payments
from clearway.funding.service.ports import (
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerTransaction,
    LedgerUnavailableError,
)

from .test_funding_payable_states import payable

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
WORKSPACE = Workspace(
    id="default", ledger_identity_id="idt_ws", auto_link_deposits=False, created_at=NOW, updated_at=NOW
)


class _Workspaces:
    async def get(self, workspace_id: str) -> Workspace | None:
        return WORKSPACE if workspace_id == WORKSPACE.id else None


class _UnitOfWork:
    workspaces = _Workspaces()

    async def __aenter__(self) -> _UnitOfWork:
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None


class _Ledger:
    """Answers a hold with a status no hold can have (e.g. a ledger that applied it outright)."""

    async def find_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        return LedgerBalance("bln_ws", 1_000_000, 0, currency)

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        return LedgerBalance("bln_payee", 0, 0, currency)

    async def post(self, posting: Posting) -> LedgerTransaction:
        return LedgerTransaction("txn_1", posting.reference, "APPLIED")


async def test_an_unexpected_hold_status_is_refused_not_asserted() -> None:
    context = SimpleNamespace(ledger=_Ledger(), unit_of_work=_UnitOfWork, clock=lambda: NOW)
    paying = payable(PayableStatus.PAYING, pay_attempts=1)
    with pytest.raises(LedgerAnswerInvalidError, match="unexpected hold status APPLIED") as invalid:
        await balance_payments.finish_paying(context, paying)  # type: ignore[arg-type]
    assert isinstance(invalid.value, LedgerUnavailableError)  # recovery retries it on its next pass
