"""FRAGMENT's GraphQL for monitoring payments (seed 003), at `POST /graphql`.

Seed 003's four queries run unchanged:

- `UnreconciledPayments`: `ledgerAccount(ledgerAccount: {path, ledger: {ik}}) { unreconciledTxs { nodes
  { id description amount externalId } } }`: synced bank transactions nothing reconciled yet;
- `PendingPayments`, `PendingBulkReceivables`, `PendingWithdrawals`: `ledger(ledger: {ik}) {
  ledgerAccounts(filter: {clearingStatus: {equalTo: pending}, path: {matches: ...}}) { nodes { path
  clearingStatus ownBalance } } }`: clearing accounts waiting for their next step.

`ledgerAccounts` also filters by `currency: {equalTo: "KES"}` and `type: {equalTo: asset}` (or
`{in: [...]}`), except that, as in FRAGMENT, the clearingStatus filter only accepts the path filter
beside it. Errors are GraphQL errors with `extensions.code` (BAD_REQUEST, NOT_FOUND, UNAVAILABLE);
anything unexpected is masked. Reading needs a reader role, as every reconciliation read does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import strawberry
from fastapi import APIRouter, Depends, Request
from fastapi import HTTPException as FastAPIHTTPException
from fastapi.routing import APIWebSocketRoute
from strawberry.extensions import MaskErrors
from strawberry.fastapi import GraphQLRouter

# What Strawberry raises for an unreadable request (it re-uses cross_web's, not exported by name).
from strawberry.http.async_base_view import HTTPException as StrawberryHTTPException  # type: ignore[attr-defined]
from strawberry.schema.config import StrawberryConfig
from strawberry.types.unset import UNSET

from clearway.platform.auth import APPROVER, OPERATOR, PROCESSOR, READ_ONLY, SERVICE, require_roles
from clearway.platform.ledger import LedgerRefusedError, LedgerUnavailableError
from clearway.platform.logging import get_logger
from clearway.reconciliation.entrypoints.graphql_types import (
    CURRENCY_CODE,
    INT96_DESCRIPTION,
    Int96,
    LedgerAccount,
    LedgerAccountMatchInput,
    LedgerAccountsConnection,
    LedgerAccountsFilterSet,
    LedgerMatchInput,
    NotFoundError,
    QueryError,
    UnavailableError,
    check_path,
    data_of,
    paginate,
    parse_int96,
)
from clearway.reconciliation.service.graphql_data import GraphQLData, TooManyAccountsError

GRAPHQL_PATH = "/graphql"
READERS = (READ_ONLY, OPERATOR, APPROVER, PROCESSOR, SERVICE)
CLEARING_STATUS_ONLY_WITH_PATH = (
    "The clearingStatus filter only accepts the path filter as an additional filter; remove: {others}."
)

logger = get_logger("clearway.reconciliation.graphql")


async def _ledger_id(info: strawberry.Info, ledger: LedgerMatchInput) -> str:
    try:
        ledger_id = await data_of(info).ledger_id_for_ik(ledger.ik)
    except LedgerUnavailableError as error:
        raise UnavailableError("The ledger is unavailable; try again.") from error
    if ledger_id is None:
        raise NotFoundError(f'Ledger with ik "{ledger.ik[:120]}" not found.')
    return ledger_id


async def _accounts(
    info: strawberry.Info,
    ledger_id: str,
    *,
    clearing_status: str | None = None,
    path: str | None = None,
    currency: str | None = None,
    account_type: str | None = None,
) -> list[LedgerAccount]:
    try:
        found = await data_of(info).ledger_accounts(
            ledger_id, clearing_status=clearing_status, path=path, currency=currency, account_type=account_type
        )
    except TooManyAccountsError as error:
        raise QueryError(str(error)) from error
    except LedgerUnavailableError as error:
        raise UnavailableError("The ledger is unavailable; try again.") from error
    except LedgerRefusedError as error:
        raise QueryError(f"The ledger refused the query: {error.detail}") from error
    return [LedgerAccount.of(account, ledger_id) for account in found]


def _path_pattern(filter_: LedgerAccountsFilterSet) -> str | None:
    if filter_.path is None:
        return None
    equal_to, matches = filter_.path.equal_to, filter_.path.matches
    if (equal_to is None) == (matches is None):
        raise QueryError("The path filter takes exactly one of equalTo, matches.")
    return check_path(equal_to, pattern=False) if equal_to is not None else check_path(str(matches), pattern=True)


@strawberry.type
class Ledger:
    id: strawberry.ID
    ik: str

    @strawberry.field
    async def ledger_accounts(
        self,
        info: strawberry.Info,
        filter: LedgerAccountsFilterSet | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> LedgerAccountsConnection:
        filter_ = filter or LedgerAccountsFilterSet()
        others = [name for name, value in (("currency", filter_.currency), ("type", filter_.type)) if value]
        if filter_.clearing_status is not None and others:
            raise QueryError(CLEARING_STATUS_ONLY_WITH_PATH.format(others=", ".join(others)))
        currency = filter_.currency.equal_to if filter_.currency else None
        if currency is not None and CURRENCY_CODE.fullmatch(currency) is None:
            raise QueryError(f'Invalid currency "{currency[:16]}": use an ISO 4217 code like "KES".')
        types = None
        if filter_.type is not None:
            if (filter_.type.equal_to is None) == (filter_.type.in_ is None):
                raise QueryError("The type filter takes exactly one of equalTo, in.")
            types = [filter_.type.equal_to] if filter_.type.equal_to else list(filter_.type.in_ or [])
        accounts = await _accounts(
            info,
            str(self.id),
            clearing_status=filter_.clearing_status.equal_to.value if filter_.clearing_status else None,
            path=_path_pattern(filter_),
            currency=currency,
            account_type=types[0].value if types and len(types) == 1 else None,
        )
        if types is not None:
            accounts = [account for account in accounts if account.type in types]
        nodes, page_info = paginate(accounts, first, after)
        return LedgerAccountsConnection(nodes=nodes, page_info=page_info)


@strawberry.type
class Query:
    @strawberry.field
    async def ledger(self, info: strawberry.Info, ledger: LedgerMatchInput) -> Ledger:
        return Ledger(id=strawberry.ID(await _ledger_id(info, ledger)), ik=ledger.ik)

    @strawberry.field
    async def ledger_account(self, info: strawberry.Info, ledger_account: LedgerAccountMatchInput) -> LedgerAccount:
        """One account by path (`ledger` names its ledger by ik)."""
        ledger_id = await _ledger_id(info, ledger_account.ledger)
        path = check_path(ledger_account.path, pattern=False)
        accounts = await _accounts(info, ledger_id, path=path)
        if len(accounts) > 1:
            currencies = sorted(account.currency.code for account in accounts if account.currency)
            raise QueryError(
                f'Ledger account "{path}" holds {", ".join(currencies)}: list it with ledgerAccounts and a '
                "currency filter."
            )
        return accounts[0] if accounts else LedgerAccount.not_created(path, ledger_id)


def _should_mask(error: Any) -> bool:
    """Show syntax, validation and our own errors; hide what an unexpected exception in a resolver
    says (`error` is graphql-core's GraphQLError, which strawberry brings)."""
    original = error.original_error
    if original is None or error.path is None or isinstance(original, QueryError):
        return False
    logger.error("graphql resolver failed", error=repr(original)[:500], path=list(error.path))
    return True


schema = strawberry.Schema(
    query=Query,
    config=StrawberryConfig(
        scalar_map={
            Int96: strawberry.scalar(
                name="Int96", description=INT96_DESCRIPTION, serialize=str, parse_value=parse_int96
            )
        }
    ),
    extensions=[functools.partial(MaskErrors, should_mask_error=_should_mask)],
)


class _ProblemGraphQLRouter(GraphQLRouter[dict[str, GraphQLData], None]):
    """Strawberry answers a request it cannot read (wrong content type, no query, bad JSON) with a
    text/plain body; here it is a problem+json 400 like every other error (found by `make fuzz`)."""

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        await _refuse_a_body_that_is_not_an_object(request)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as error:
            raise FastAPIHTTPException(error.status_code, detail=error.reason) from error


async def _refuse_a_body_that_is_not_an_object(request: Any) -> None:
    """Strawberry calls `.get()` on the parsed body: a JSON array or string was a 500 (found by the
    route x role matrix). A GraphQL request is one JSON object; batching is not offered."""
    if not isinstance(request, Request) or request.method != "POST":
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    try:
        body = await request.json()  # cached: strawberry reads the same body next
    except ValueError:
        return  # not JSON at all: strawberry's own 400, made a problem by `run`
    if not isinstance(body, dict):
        raise FastAPIHTTPException(400, detail='A GraphQL request is a JSON object: {"query": "...", "variables": {}}.')


def graphql_router(data: Callable[[Request], GraphQLData]) -> APIRouter:
    """`POST /graphql` answering from `data(request)`; `main.py` mounts it beside the REST routers."""

    async def context(request: Request) -> dict[str, GraphQLData]:
        return {"data": data(request)}

    graphql_app: GraphQLRouter[dict[str, GraphQLData], None] = _ProblemGraphQLRouter(
        schema,
        path=GRAPHQL_PATH,
        graphql_ide=None,
        allow_queries_via_get=False,
        context_getter=context,
        subscription_protocols=(),
    )
    # Queries only: no subscriptions, so no WebSocket door either (it would need its own
    # authentication); strawberry registers one regardless of the protocols offered.
    graphql_app.routes = [route for route in graphql_app.routes if not isinstance(route, APIWebSocketRoute)]
    router = APIRouter(tags=["graphql"], dependencies=[Depends(require_roles(*READERS))])
    router.include_router(graphql_app)
    return router
