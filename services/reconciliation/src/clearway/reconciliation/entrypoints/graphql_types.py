"""FRAGMENT's GraphQL types for seed 003's queries, named as FRAGMENT names them.

Amounts are `Int96`: integers of minor units written as strings (`"-1500"`), so no client reads
them through a float. Enum values are lower-case, as FRAGMENT answers them (`pending`, `asset`).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, NewType

import strawberry

from clearway.platform.ledger import LedgerAccount as LedgerAccountValue
from clearway.reconciliation.service.graphql_data import GraphQLData, UnreconciledTx

Int96 = NewType("Int96", int)
INT96_DESCRIPTION = "A signed integer of minor units, written as a string (FRAGMENT's Int96)."
PAGE_SIZE_MAX = 200
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# What the ledger accepts in a path pattern (`clearway.ledger.domain.schema.paths`).
PATH_PATTERN = re.compile(r"[A-Za-z0-9_.@/:*-]{1,512}")
PATH_WILDCARDS_MAX = 8
# A ledger account's type from its path's root, for an account the ledger has not created yet
# (nothing posted to it): FRAGMENT's chart of accounts roots.
TYPE_OF_ROOT = {"assets": "asset", "liabilities": "liability", "income": "income", "expense": "expense"}


def parse_int96(value: object) -> Int96:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Int96 must be an integer or a string of one")
    return Int96(int(value))


# ---- errors -----------------------------------------------------------------------------


class QueryError(Exception):
    """An error the caller can act on: shown as is, with a machine `code` in the GraphQL error's
    `extensions` (graphql-core copies an original error's `extensions`)."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code}


class NotFoundError(QueryError):
    code = "NOT_FOUND"


class UnavailableError(QueryError):
    code = "UNAVAILABLE"


# ---- enums and scalars ------------------------------------------------------------------


@strawberry.enum
class LedgerAccountClearingStatus(Enum):
    pending = "pending"  # a non-zero balance: the payment waits for its next step
    cleared = "cleared"  # a zero balance: the workflow is complete


@strawberry.enum
class LedgerAccountTypes(Enum):
    asset = "asset"
    liability = "liability"
    income = "income"
    expense = "expense"
    equity = "equity"  # Clearway's ledger has equity accounts; FRAGMENT has none


# ---- inputs -----------------------------------------------------------------------------


@strawberry.input
class LedgerMatchInput:
    ik: str = strawberry.field(description="The ik the ledger was created with.")


@strawberry.input
class LedgerAccountMatchInput:
    path: str
    ledger: LedgerMatchInput


@strawberry.input
class LedgerAccountClearingStatusFilter:
    equal_to: LedgerAccountClearingStatus


@strawberry.input
class StringMatchFilter:
    equal_to: str | None = strawberry.field(default=None, description="Exactly this path.")
    matches: str | None = strawberry.field(
        default=None, description="A pattern: '*' matches within one path segment ('liabilities/pending:*')."
    )


@strawberry.input
class CurrencyFilter:
    equal_to: str = strawberry.field(description="An ISO 4217 code, like 'KES'.")


@strawberry.input
class LedgerAccountTypeFilter:
    equal_to: LedgerAccountTypes | None = None
    in_: list[LedgerAccountTypes] | None = strawberry.field(default=None, name="in")


@strawberry.input
class LedgerAccountsFilterSet:
    clearing_status: LedgerAccountClearingStatusFilter | None = strawberry.field(
        default=None, description="Only with `path` beside it: other filters are refused."
    )
    path: StringMatchFilter | None = None
    currency: CurrencyFilter | None = None
    type: LedgerAccountTypeFilter | None = None


# ---- outputs ----------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Currency:
    code: str


@strawberry.type
class Tx:
    """A transaction synced from a link (FRAGMENT's Tx)."""

    id: strawberry.ID
    description: str
    amount: Int96 = strawberry.field(description="Signed: money into the external account is positive.")
    external_id: strawberry.ID
    currency: Currency | None

    @classmethod
    def of(cls, tx: UnreconciledTx) -> Tx:
        return cls(
            id=strawberry.ID(tx.id),
            description=tx.description,
            amount=Int96(tx.amount_minor),
            external_id=strawberry.ID(tx.external_id),
            currency=Currency(code=tx.currency) if tx.currency else None,
        )


@strawberry.type
class TxsConnection:
    nodes: list[Tx]
    page_info: PageInfo


@strawberry.type
class LedgerAccount:
    """A ledger account in one currency. One the ledger has not created yet (nothing posted to it)
    reads as a zero balance, its type from its path's root."""

    id: strawberry.ID
    path: str
    type: LedgerAccountTypes
    own_balance: Int96 = strawberry.field(description="In the account's natural sign, minor units.")
    clearing_status: LedgerAccountClearingStatus | None = strawberry.field(
        description="Set for clearing accounts only."
    )
    currency: Currency | None
    is_linked_account: bool
    ledger_id: strawberry.Private[str]

    @classmethod
    def of(cls, account: LedgerAccountValue, ledger_id: str) -> LedgerAccount:
        return cls(
            id=strawberry.ID(account.account_id or f"{account.path}:{account.currency}"),
            path=account.path,
            type=LedgerAccountTypes(account.type),
            own_balance=Int96(account.own_balance_minor),
            clearing_status=LedgerAccountClearingStatus(account.clearing_status) if account.clearing_status else None,
            currency=Currency(code=account.currency) if account.currency else None,
            is_linked_account=account.linked,
            ledger_id=ledger_id,
        )

    @classmethod
    def not_created(cls, path: str, ledger_id: str) -> LedgerAccount:
        account_type = TYPE_OF_ROOT.get(path.split("/", 1)[0])
        if account_type is None:
            raise NotFoundError(f'Ledger account "{path}" not found.')
        return cls(
            id=strawberry.ID(path),
            path=path,
            type=LedgerAccountTypes(account_type),
            own_balance=Int96(0),
            clearing_status=None,
            currency=None,
            is_linked_account=False,
            ledger_id=ledger_id,
        )

    @strawberry.field
    async def unreconciled_txs(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> TxsConnection:
        """Transactions synced from this (linked) account's links that no ledger entry reconciled."""
        txs = await data_of(info).unreconciled_transactions(self.ledger_id, self.path)
        nodes, page_info = paginate([Tx.of(tx) for tx in txs], first, after)
        return TxsConnection(nodes=nodes, page_info=page_info)


@strawberry.type
class LedgerAccountsConnection:
    nodes: list[LedgerAccount]
    page_info: PageInfo


# ---- helpers ----------------------------------------------------------------------------


def data_of(info: strawberry.Info) -> GraphQLData:
    data: GraphQLData = info.context["data"]
    return data


def paginate(nodes: list[Any], first: int | None, after: str | None) -> tuple[list[Any], PageInfo]:
    """Nodes (each with an `id`) after the cursor `after`, at most `first` of them; all without `first`."""
    if first is not None and not 1 <= first <= PAGE_SIZE_MAX:
        raise QueryError(f"first must be between 1 and {PAGE_SIZE_MAX}.")
    start = 0
    if after is not None:
        ids = [str(node.id) for node in nodes]
        if after not in ids:
            raise QueryError(f'Unknown cursor "{after[:80]}".')
        start = ids.index(after) + 1
    end = len(nodes) if first is None else min(len(nodes), start + first)
    page = nodes[start:end]
    return page, PageInfo(
        has_next_page=end < len(nodes),
        has_previous_page=start > 0,
        start_cursor=str(page[0].id) if page else None,
        end_cursor=str(page[-1].id) if page else None,
    )


def check_path(path: str, *, pattern: bool) -> str:
    if PATH_PATTERN.fullmatch(path) is None or path.count("*") > PATH_WILDCARDS_MAX:
        raise QueryError(f'Invalid path "{path[:80]}": use letters, digits and _.@/:- (and * in matches).')
    if not pattern and "*" in path:
        raise QueryError(f'Invalid path "{path[:80]}": a ledger account path has no wildcard.')
    return path
