"""Clearing accounts as operators watch them: the ledger's status, and how long each pending
payment account has waited (from the expectation that initiated it)."""

from __future__ import annotations

from typing import Any

from clearway.platform.ledger import LedgerAccount
from clearway.reconciliation.domain.errors import NotFoundError
from clearway.reconciliation.domain.expectations import ExpectationStatus
from clearway.reconciliation.service.context import ReconciliationContext

PAGES_MAX = 100
PENDING_PAYMENT_PREFIX = "liabilities/pending_withdrawals:"


async def clearing_accounts(
    context: ReconciliationContext, ledger_id: str, *, status: str | None, path: str | None
) -> list[dict[str, Any]]:
    # An unknown ledger is the caller's mistake (404), not the ledger refusing us (502).
    if await context.ledger.get_ledger(ledger_id) is None:
        raise NotFoundError(f"The ledger has no ledger {ledger_id}.", code="LEDGER_NOT_FOUND")
    found: list[LedgerAccount] = []
    cursor: str | None = None
    for _page in range(PAGES_MAX):
        page, has_more = await context.ledger.list_accounts(
            ledger_id, clearing_status=status, path=path, limit=100, starting_after=cursor
        )
        found.extend(account for account in page if account.clearing)
        if not has_more or not page:
            break
        cursor = page[-1].account_id
    initiated_at = await _initiations(context)
    now = context.clock()
    return [
        {
            "ledger_id": ledger_id,
            "path": account.path,
            "currency": account.currency,
            "clearing_status": account.clearing_status,
            "own_balance_minor": account.own_balance_minor,
            "age_s": int((now - initiated_at[account.path]).total_seconds())
            if account.path in initiated_at and account.clearing_status == "pending"
            else None,
        }
        for account in found
    ]


async def _initiations(context: ReconciliationContext) -> dict[str, Any]:
    async with context.unit_of_work() as uow:
        open_outbound = await uow.expectations.list(
            link_id=None, status=ExpectationStatus.OPEN, starting_after=None, limit=10_000
        )
    return {
        f"{PENDING_PAYMENT_PREFIX}{expectation.payment_id}": expectation.created_at
        for expectation in open_outbound
        if expectation.direction == "outbound"
    }
