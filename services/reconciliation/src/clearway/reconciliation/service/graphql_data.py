"""What FRAGMENT's GraphQL queries (seed 003) read: ledgers by ik, their schema accounts, and the
synced transactions of a linked account that nothing reconciled yet.

`entrypoints/graphql.py` answers the queries from a `GraphQLData`; `LedgerBackedGraphQLData` is the
one the service runs: ledgers and accounts from the ledger, unreconciled transactions from this
service's own store (a function `main.py` supplies).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from clearway.platform.ledger import LedgerAccount, LedgerAnswerInvalidError, LedgerRef

ACCOUNTS_PAGE_LIMIT = 100
# A listing reads at most this many accounts (100 ledger pages); a wider one asks for a narrower filter.
ACCOUNTS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class UnreconciledTx:
    """An external transaction synced from a link and not reconciled to a ledger entry yet."""

    id: str
    description: str
    amount_minor: int  # signed as the linked account sees it: money in is positive
    external_id: str  # the bank's or provider's id
    currency: str | None = None


class TooManyAccountsError(Exception):
    """More accounts match than one answer may carry."""


class GraphQLData(Protocol):
    async def ledger_id_for_ik(self, ik: str) -> str | None: ...

    async def ledger_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None,
        path: str | None,
        currency: str | None,
        account_type: str | None,
    ) -> list[LedgerAccount]:
        """Every schema account of the ledger that matches (`path` FRAGMENT-style, `*` within a
        segment); raises `TooManyAccountsError` past ACCOUNTS_MAX."""
        ...

    async def unreconciled_transactions(self, ledger_id: str, account_path: str) -> list[UnreconciledTx]: ...


class AccountsLedger(Protocol):
    """The part of the ledger client (`clearway.platform.ledger.HttpLedgerClient`) read here."""

    async def find_ledger_by_ik(self, ik: str) -> LedgerRef | None: ...

    async def list_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None = None,
        path: str | None = None,
        currency: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> tuple[list[LedgerAccount], bool]: ...


class LedgerBackedGraphQLData:
    def __init__(
        self, ledger: AccountsLedger, unreconciled: Callable[[str, str], Awaitable[list[UnreconciledTx]]]
    ) -> None:
        self._ledger = ledger
        self._unreconciled = unreconciled

    async def ledger_id_for_ik(self, ik: str) -> str | None:
        found = await self._ledger.find_ledger_by_ik(ik)
        return None if found is None else found.ledger_id

    async def ledger_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None,
        path: str | None,
        currency: str | None,
        account_type: str | None,
    ) -> list[LedgerAccount]:
        found: list[LedgerAccount] = []
        cursor: str | None = None
        for _page in range(ACCOUNTS_MAX // ACCOUNTS_PAGE_LIMIT):
            page, has_more = await self._ledger.list_accounts(
                ledger_id,
                clearing_status=clearing_status,
                path=path,
                currency=currency,
                limit=ACCOUNTS_PAGE_LIMIT,
                starting_after=cursor,
            )
            # The ledger does not filter by type; few schemas have more than a handful of types.
            found.extend(account for account in page if account_type is None or account.type == account_type)
            if not has_more or not page:
                return found
            cursor = page[-1].account_id
            if cursor is None:
                raise LedgerAnswerInvalidError("an account page without ids cannot be paged on")
        raise TooManyAccountsError(f"more than {ACCOUNTS_MAX} accounts match; narrow the filter (path)")

    async def unreconciled_transactions(self, ledger_id: str, account_path: str) -> list[UnreconciledTx]:
        return await self._unreconciled(ledger_id, account_path)
