"""The GraphQL module over an in-memory `GraphQLData`: seed 003's four queries exactly as the seed
writes them, FRAGMENT's filters and their one refused combination, errors, paging and the route."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.platform.auth import READ_ONLY, Principal, current_principal
from clearway.platform.errors import install_error_handlers
from clearway.platform.ledger import LedgerAccount, LedgerUnavailableError
from clearway.reconciliation.entrypoints.graphql import graphql_router
from clearway.reconciliation.entrypoints.seed_queries import (
    PENDING_BULK_RECEIVABLES,
    PENDING_PAYMENTS,
    PENDING_WITHDRAWALS,
    SEED_QUERIES,
    UNRECONCILED_PAYMENTS,
)
from clearway.reconciliation.service.graphql_data import UnreconciledTx

SEED_003 = sorted((Path(__file__).resolve().parents[5] / "shared" / "seeds").glob("003_*.txt"))


@pytest.mark.skipif(not SEED_003, reason="the seed documents (shared/seeds) are not beside the repository")
def test_the_queries_are_the_seeds_own() -> None:
    seed = SEED_003[0].read_text(encoding="utf-8")
    for query in SEED_QUERIES:
        assert query in seed


# ---- an in-memory ledger behind the GraphQLData protocol ---------------------------------


def account(
    path: str, own_balance_minor: int, *, account_type: str = "liability", currency: str = "KES", linked: bool = False
) -> LedgerAccount:
    clearing = path.startswith(("liabilities/bulk_receivables", "liabilities/pending_"))
    return LedgerAccount(
        path=path,
        type=account_type,
        currency=currency,
        own_balance_minor=own_balance_minor,
        clearing_status=("pending" if own_balance_minor else "cleared") if clearing else None,
        linked=linked,
        clearing=clearing,
        template=":" in path,
        account_id=f"bln_{path.replace('/', '_')}_{currency}",
        ledger_id="ldg_1",
    )


@dataclass
class FakeData:
    ledgers: dict[str, str] = field(default_factory=lambda: {"ledger_123": "ldg_1"})
    accounts: list[LedgerAccount] = field(
        default_factory=lambda: [
            account("assets/operating", 41_500, account_type="asset", linked=True),
            account("liabilities/user_balances:u1", 30_000),
            account("liabilities/bulk_receivables", 4_000),
            account("liabilities/pending_withdrawals:p1", 2_500),
            account("liabilities/pending_withdrawals:p2", 0),
            account("liabilities/pending_batches:b1", 5_000),
            account("liabilities/user_balances:u1", 700, currency="USD"),
        ]
    )
    unreconciled: list[UnreconciledTx] = field(
        default_factory=lambda: [
            UnreconciledTx(id="etx_1", description="MPESA C2B 0712", amount_minor=150_000, external_id="QK12AB"),
            UnreconciledTx(id="etx_2", description="Refund", amount_minor=-2_500, external_id="QK99ZZ", currency="KES"),
        ]
    )
    calls: list[dict[str, Any]] = field(default_factory=list)
    failure: Exception | None = None

    async def ledger_id_for_ik(self, ik: str) -> str | None:
        return self.ledgers.get(ik)

    async def ledger_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None,
        path: str | None,
        currency: str | None,
        account_type: str | None,
    ) -> list[LedgerAccount]:
        self.calls.append(
            {"clearing_status": clearing_status, "path": path, "currency": currency, "account_type": account_type}
        )
        if self.failure is not None:
            raise self.failure
        pattern = re.compile("[^/]*".join(re.escape(part) for part in (path or "*").split("*")))
        return [
            item
            for item in self.accounts
            if item.ledger_id == ledger_id
            and (path is None or pattern.fullmatch(item.path))
            and (clearing_status is None or item.clearing_status == clearing_status)
            and (currency is None or item.currency == currency)
            and (account_type is None or item.type == account_type)
        ]

    async def unreconciled_transactions(self, ledger_id: str, account_path: str) -> list[UnreconciledTx]:
        assert ledger_id == "ldg_1"
        return list(self.unreconciled) if account_path == "assets/operating" else []


@pytest.fixture
def data() -> FakeData:
    return FakeData()


@pytest_asyncio.fixture
async def graphql(data: FakeData) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(graphql_router(lambda _request: data))
    app.dependency_overrides[current_principal] = lambda: Principal(name="reader", roles=frozenset({READ_ONLY}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reconciliation") as client:
        yield client


async def run(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def only_error(document: dict[str, Any]) -> dict[str, Any]:
    assert document.get("data") is None, document
    (error,) = document["errors"]
    return dict(error)


# ---- the seed's queries -------------------------------------------------------------------


async def test_unreconciled_payments(graphql: httpx.AsyncClient) -> None:
    document = await run(graphql, UNRECONCILED_PAYMENTS)
    assert document == {
        "data": {
            "ledgerAccount": {
                "unreconciledTxs": {
                    "nodes": [
                        {"id": "etx_1", "description": "MPESA C2B 0712", "amount": "150000", "externalId": "QK12AB"},
                        {"id": "etx_2", "description": "Refund", "amount": "-2500", "externalId": "QK99ZZ"},
                    ]
                }
            }
        }
    }


async def test_pending_payments(graphql: httpx.AsyncClient, data: FakeData) -> None:
    document = await run(graphql, PENDING_PAYMENTS)
    assert document == {
        "data": {
            "ledger": {
                "ledgerAccounts": {
                    "nodes": [
                        {"path": "liabilities/bulk_receivables", "clearingStatus": "pending", "ownBalance": "4000"},
                        {
                            "path": "liabilities/pending_withdrawals:p1",
                            "clearingStatus": "pending",
                            "ownBalance": "2500",
                        },
                        {"path": "liabilities/pending_batches:b1", "clearingStatus": "pending", "ownBalance": "5000"},
                    ]
                }
            }
        }
    }
    assert data.calls == [{"clearing_status": "pending", "path": None, "currency": None, "account_type": None}]


async def test_pending_bulk_receivables(graphql: httpx.AsyncClient, data: FakeData) -> None:
    document = await run(graphql, PENDING_BULK_RECEIVABLES)
    nodes = document["data"]["ledger"]["ledgerAccounts"]["nodes"]
    assert nodes == [{"path": "liabilities/bulk_receivables", "clearingStatus": "pending", "ownBalance": "4000"}]
    assert data.calls[0]["path"] == "liabilities/bulk_receivables"


async def test_pending_withdrawals(graphql: httpx.AsyncClient, data: FakeData) -> None:
    document = await run(graphql, PENDING_WITHDRAWALS)
    nodes = document["data"]["ledger"]["ledgerAccounts"]["nodes"]
    assert nodes == [{"path": "liabilities/pending_withdrawals:p1", "clearingStatus": "pending", "ownBalance": "2500"}]
    assert data.calls == [
        {
            "clearing_status": "pending",
            "path": "liabilities/pending_withdrawals:*",
            "currency": None,
            "account_type": None,
        }
    ]
    # Settled: the same query finds nothing pending.
    data.accounts = [account("liabilities/pending_withdrawals:p1", 0)]
    document = await run(graphql, PENDING_WITHDRAWALS)
    assert document == {"data": {"ledger": {"ledgerAccounts": {"nodes": []}}}}


# ---- FRAGMENT's other filters -------------------------------------------------------------

ACCOUNTS = """
query Accounts($ik: String!, $filter: LedgerAccountsFilterSet, $first: Int, $after: String) {
  ledger(ledger: {ik: $ik}) {
    id
    ik
    ledgerAccounts(filter: $filter, first: $first, after: $after) {
      nodes { id path type currency { code } ownBalance clearingStatus isLinkedAccount }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def accounts(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    document = await run(client, ACCOUNTS, {"ik": "ledger_123", **variables})
    assert "errors" not in document, document
    return dict(document["data"]["ledger"])


async def test_currency_and_type_filters(graphql: httpx.AsyncClient, data: FakeData) -> None:
    ledger = await accounts(graphql, filter={"currency": {"equalTo": "USD"}})
    assert (ledger["id"], ledger["ik"]) == ("ldg_1", "ledger_123")
    assert ledger["ledgerAccounts"]["nodes"] == [
        {
            "id": "bln_liabilities_user_balances:u1_USD",
            "path": "liabilities/user_balances:u1",
            "type": "liability",
            "currency": {"code": "USD"},
            "ownBalance": "700",
            "clearingStatus": None,
            "isLinkedAccount": False,
        }
    ]
    cash = await accounts(graphql, filter={"type": {"equalTo": "asset"}, "currency": {"equalTo": "KES"}})
    assert [(node["path"], node["type"], node["isLinkedAccount"]) for node in cash["ledgerAccounts"]["nodes"]] == [
        ("assets/operating", "asset", True)
    ]
    both = await accounts(graphql, filter={"type": {"in": ["asset", "liability"]}, "path": {"matches": "*/*"}})
    assert len(both["ledgerAccounts"]["nodes"]) == len(data.accounts)
    assert data.calls[1]["account_type"] == "asset" and data.calls[2]["account_type"] is None
    exact = await accounts(graphql, filter={"path": {"equalTo": "liabilities/bulk_receivables"}})
    assert [node["path"] for node in exact["ledgerAccounts"]["nodes"]] == ["liabilities/bulk_receivables"]


@pytest.mark.parametrize(
    ("filter_", "others"),
    [
        ({"currency": {"equalTo": "KES"}}, "currency"),
        ({"type": {"equalTo": "liability"}}, "type"),
        ({"currency": {"equalTo": "KES"}, "type": {"equalTo": "asset"}, "path": {"matches": "x:*"}}, "currency, type"),
    ],
)
async def test_clearing_status_accepts_only_the_path_filter_beside_it(
    graphql: httpx.AsyncClient, data: FakeData, filter_: dict[str, Any], others: str
) -> None:
    query_filter = {"clearingStatus": {"equalTo": "pending"}, **filter_}
    error = only_error(await run(graphql, ACCOUNTS, {"ik": "ledger_123", "filter": query_filter}))
    assert error["message"] == (
        f"The clearingStatus filter only accepts the path filter as an additional filter; remove: {others}."
    )
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["path"] == ["ledger", "ledgerAccounts"]
    assert data.calls == []


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"currency": {"equalTo": "kes"}}, 'Invalid currency "kes"'),
        ({"path": {"matches": "assets/(x)"}}, 'Invalid path "assets/(x)"'),
        ({"path": {"equalTo": "liabilities/*"}}, "has no wildcard"),
        ({"path": {}}, "exactly one of equalTo, matches"),
        ({"type": {}}, "exactly one of equalTo, in"),
    ],
)
async def test_malformed_filters_are_refused(graphql: httpx.AsyncClient, filter_: dict[str, Any], message: str) -> None:
    error = only_error(await run(graphql, ACCOUNTS, {"ik": "ledger_123", "filter": filter_}))
    assert message in error["message"] and error["extensions"]["code"] == "BAD_REQUEST"


async def test_pages_with_first_and_after(graphql: httpx.AsyncClient) -> None:
    first = await accounts(graphql, filter={"type": {"equalTo": "liability"}}, first=2)
    page = first["ledgerAccounts"]
    assert [node["path"] for node in page["nodes"]] == ["liabilities/user_balances:u1", "liabilities/bulk_receivables"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    rest = await accounts(graphql, filter={"type": {"equalTo": "liability"}}, after=page["pageInfo"]["endCursor"])
    assert len(rest["ledgerAccounts"]["nodes"]) == 4
    assert rest["ledgerAccounts"]["pageInfo"]["hasNextPage"] is False
    error = only_error(await run(graphql, ACCOUNTS, {"ik": "ledger_123", "first": 0}))
    assert "first must be between 1 and 200" in error["message"]


# ---- errors -------------------------------------------------------------------------------


async def test_an_unknown_ledger_ik_is_not_found(graphql: httpx.AsyncClient) -> None:
    pending = PENDING_WITHDRAWALS.replace("ledger_123", "ledger_404")
    error = only_error(await run(graphql, pending))
    assert error["message"] == 'Ledger with ik "ledger_404" not found.'
    assert (error["extensions"], error["path"]) == ({"code": "NOT_FOUND"}, ["ledger"])
    error = only_error(await run(graphql, UNRECONCILED_PAYMENTS.replace("ledger_123", "ledger_404")))
    assert error["message"] == 'Ledger with ik "ledger_404" not found.' and error["path"] == ["ledgerAccount"]


async def test_ledger_account_not_created_yet_reads_as_empty(graphql: httpx.AsyncClient, data: FakeData) -> None:
    data.accounts = []
    query = """{ ledgerAccount(ledgerAccount: {path: "assets/operating", ledger: {ik: "ledger_123"}}) {
        path type ownBalance clearingStatus currency { code } unreconciledTxs(first: 1) {
          nodes { id } pageInfo { hasNextPage endCursor } } } }"""
    document = await run(graphql, query)
    assert document["data"]["ledgerAccount"] == {
        "path": "assets/operating",
        "type": "asset",
        "ownBalance": "0",
        "clearingStatus": None,
        "currency": None,
        "unreconciledTxs": {"nodes": [{"id": "etx_1"}], "pageInfo": {"hasNextPage": True, "endCursor": "etx_1"}},
    }
    unknown_root = query.replace("assets/operating", "suspense/x")
    assert only_error(await run(graphql, unknown_root))["extensions"] == {"code": "NOT_FOUND"}


async def test_a_multi_currency_account_is_listed_not_picked(graphql: httpx.AsyncClient) -> None:
    query = """{ ledgerAccount(ledgerAccount: {path: "liabilities/user_balances:u1", ledger: {ik: "ledger_123"}}) {
        ownBalance } }"""
    error = only_error(await run(graphql, query))
    assert "holds KES, USD" in error["message"] and error["extensions"] == {"code": "BAD_REQUEST"}


async def test_ledger_outages_and_unexpected_failures(graphql: httpx.AsyncClient, data: FakeData) -> None:
    data.failure = LedgerUnavailableError("GET /ledgers/ldg_1/accounts: 503")
    error = only_error(await run(graphql, PENDING_PAYMENTS))
    assert error["message"] == "The ledger is unavailable; try again." and error["extensions"] == {
        "code": "UNAVAILABLE"
    }
    data.failure = RuntimeError("password=hunter2 in a stack trace")
    error = only_error(await run(graphql, PENDING_PAYMENTS))
    assert error["message"] == "Unexpected error." and "hunter2" not in str(error)


async def test_syntax_errors_are_shown(graphql: httpx.AsyncClient) -> None:
    document = await run(graphql, "{ ledger(ledger: {ik: 1}) { nope } }")
    assert document["data"] is None and len(document["errors"]) >= 1
    assert any("nope" in error["message"] for error in document["errors"])


async def test_only_post_runs_queries(graphql: httpx.AsyncClient) -> None:
    response = await graphql.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 400 and "__typename" not in response.text  # no IDE, no queries via GET
    response = await graphql.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_reading_needs_a_reader_role(data: FakeData) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(graphql_router(lambda _request: data))
    app.dependency_overrides[current_principal] = lambda: Principal(name="nobody")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reconciliation") as client:
        response = await client.post("/graphql", json={"query": PENDING_PAYMENTS})
    assert response.status_code == 403
    assert data.calls == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("query=x", "text/plain"), ("{}", "application/json"), ("{not json", "application/json")],
    ids=["unsupported-content-type", "no-query", "malformed-json"],
)
async def test_graphql_transport_errors_are_problem_json_not_plain_text(
    graphql: httpx.AsyncClient, content: str, content_type: str
) -> None:
    # Found by `make fuzz`: Strawberry's own 400s were text/plain, unlike every other error.
    answer = await graphql.post("/graphql", content=content, headers={"Content-Type": content_type})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("body", ['"a bare string"', "[]", '[{"query": "{ __typename }"}]', "42", "null"])
async def test_a_graphql_body_that_is_not_an_object_is_a_400_problem_not_a_500(
    graphql: httpx.AsyncClient, data: FakeData, body: str
) -> None:
    # Found by the route x role matrix: strawberry called .get() on a JSON string (AttributeError, 500).
    answer = await graphql.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "JSON object" in answer.json()["detail"]
    assert data.calls == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_graphql_has_no_websocket_door(data: FakeData) -> None:
    # Subscriptions are not offered, so a WebSocket to /graphql must not open (it would be a second
    # door needing its own authentication).
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    app = FastAPI()
    app.include_router(graphql_router(lambda _request: data))
    app.dependency_overrides[current_principal] = lambda: Principal(name="reader", roles=frozenset({READ_ONLY}))
    with TestClient(app) as client:
        for protocol in ("graphql-transport-ws", "graphql-ws"):
            with (
                pytest.raises(WebSocketDisconnect),
                client.websocket_connect("/graphql", subprotocols=[protocol]) as ws,
            ):
                ws.send_json({"type": "connection_init"})
                ws.receive_json()
