"""The ledger client's FRAGMENT-style calls over httpx.MockTransport: ledgers by ik, shipped schemas,
schema entries (post, reconcile, reverse, read) and schema accounts. Answers are shaped as the
ledger's `ledger_json`, `entry_json` and `account_json` write them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import (
    CLEARING_PENDING,
    ENTRY_POSTED,
    ENTRY_REVERSED,
    HttpLedgerClient,
    LedgerAccount,
    LedgerAnswerInvalidError,
    LedgerRef,
    LedgerRefusedError,
    LedgerUnavailableError,
    SchemaEntry,
)

Handler = Callable[[httpx.Request], httpx.Response]
REPLAYED = {"Idempotent-Replayed": "true"}


@contextlib.asynccontextmanager
async def client_for(handler: Handler, *, attempts_max: int = 2) -> AsyncIterator[HttpLedgerClient]:
    client = HttpLedgerClient(
        base_url="http://ledger/",
        api_key="k",
        timeout_ms=1000,
        attempts_max=attempts_max,
        transport=httpx.MockTransport(handler),
    )
    try:
        yield client
    finally:
        await client.aclose()


def ledger_document(ledger_id: str = "ldg_1", ik: str | None = "ledger_123") -> dict[str, Any]:
    return {
        "ledger_id": ledger_id,
        "name": "Payments",
        "ik": ik,
        "created_at": "2026-01-01T00:00:00+00:00",
        "meta_data": {},
    }


def entry_document(ik: str, entry_type: str = "reconcile_payment", **fields: Any) -> dict[str, Any]:
    return {
        "id": f"ent_{ik}",
        "ledger_id": "ldg_1",
        "ik": ik,
        "type": entry_type,
        "schema": {"key": "reconciliation", "version": 1},
        "status": "posted",
        "amount_minor": 1500,
        "currency": "KES",
        "parameters": {"user_id": "u1", "amount": "1500"},
        "description": "",
        "lines": [
            {"account_path": "assets/operating", "balance_id": "bln_1", "amount_minor": 1500, "currency": "KES"},
            {
                "account_path": "liabilities/user_balances:u1",
                "balance_id": "bln_2",
                "amount_minor": 1500,
                "currency": "KES",
            },
        ],
        "transaction_id": f"txn_{ik}",
        "reversed_by": None,
        "external_transaction_id": None,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        **fields,
    }


def account_document(balance_id: str, path: str, own_balance_minor: int, **fields: Any) -> dict[str, Any]:
    clearing = path.startswith("liabilities/pending_")
    return {
        "id": balance_id,
        "ledger_id": "ldg_1",
        "path": path,
        "type": "liability",
        "flags": {"linked": False, "clearing": clearing, "template": ":" in path},
        "currency": "KES",
        "own_balance_minor": own_balance_minor,
        "clearing_status": ("pending" if own_balance_minor else "cleared") if clearing else None,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        **fields,
    }


def problem(status: int, code: str, detail: str = "refused", **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "code": code, "detail": detail, **extra})


# --- Ledgers ---------------------------------------------------------------------------------


async def test_create_ledger_sends_the_ik_and_reads_a_replay() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/ledgers")
        bodies.append(json.loads(request.content))
        return httpx.Response(201 if len(bodies) == 1 else 200, json=ledger_document())

    async with client_for(handler) as client:
        first = await client.create_ledger("Payments", ik="ledger_123", meta_data={"team": "recon"})
        again = await client.create_ledger("Payments", ik="ledger_123")
        await client.create_ledger("Blnk style")
    assert first == again == LedgerRef(ledger_id="ldg_1", name="Payments", ik="ledger_123")
    assert bodies == [
        {"name": "Payments", "meta_data": {"team": "recon"}, "ik": "ledger_123"},
        {"name": "Payments", "meta_data": {}, "ik": "ledger_123"},
        {"name": "Blnk style", "meta_data": {}},
    ]


async def test_find_ledger_by_ik_asks_with_a_query_parameter() -> None:
    ledgers = {"ledger_123": [ledger_document()], "two": [ledger_document("a", "two"), ledger_document("b", "two")]}

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", "/ledgers")
        ik = request.url.params["ik"]
        return httpx.Response(200, json=ledgers.get(ik, [ledger_document("c", "another")] if ik == "odd" else []))

    async with client_for(handler) as client:
        assert await client.find_ledger_by_ik("ledger_123") == LedgerRef("ldg_1", "Payments", "ledger_123")
        assert await client.find_ledger_by_ik("unknown/with slash") is None  # no path segment: any ik works
        with pytest.raises(LedgerAnswerInvalidError, match="at most one"):
            await client.find_ledger_by_ik("two")
        with pytest.raises(LedgerAnswerInvalidError, match="asked for ledger ik"):
            await client.find_ledger_by_ik("odd")


async def test_get_ledger_is_none_when_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ledgers/ldg_1":
            return httpx.Response(200, json=ledger_document(ik=None))
        return problem(404, "NOT_FOUND")

    async with client_for(handler) as client:
        assert await client.get_ledger("ldg_1") == LedgerRef("ldg_1", "Payments", None)
        assert await client.get_ledger("ldg_2") is None


async def test_install_shipped_schema_is_idempotent_and_refusals_raise() -> None:
    answers = [httpx.Response(201, json={"key": "reconciliation"}), httpx.Response(200, json={"key": "reconciliation"})]
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.method} {request.url.path}")
        return answers.pop(0) if answers else problem(404, "SHIPPED_SCHEMA_NOT_FOUND")

    async with client_for(handler) as client:
        await client.install_shipped_schema("ldg_1", "reconciliation")
        await client.install_shipped_schema("ldg_1", "reconciliation")
        with pytest.raises(LedgerRefusedError) as refused:
            await client.install_shipped_schema("ldg_1", "nope")
    assert refused.value.status == 404
    assert paths[0] == "POST /ledgers/ldg_1/schema/shipped/reconciliation"


# --- Entries ---------------------------------------------------------------------------------


async def test_post_entry_sends_the_entry_and_reads_a_replay() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/ledgers/ldg_1/entries")
        bodies.append(json.loads(request.content))
        replay = len(bodies) > 1
        document = entry_document("split-1", "split_bulk_payment")
        return httpx.Response(200 if replay else 201, json=document, headers=REPLAYED if replay else {})

    async with client_for(handler) as client:
        first = await client.post_entry(
            "ldg_1", type="split_bulk_payment", ik="split-1", parameters={"user_id": "u1", "amount": 1500}
        )
        again = await client.post_entry(
            "ldg_1",
            type="split_bulk_payment",
            ik="split-1",
            parameters={"user_id": "u1", "amount": "1500"},
            currency="KES",
            description="item 1",
        )
    assert bodies == [
        {
            "type": "split_bulk_payment",
            "ik": "split-1",
            "parameters": {"user_id": "u1", "amount": 1500},
            "description": "",
        },
        {
            "type": "split_bulk_payment",
            "ik": "split-1",
            "parameters": {"user_id": "u1", "amount": "1500"},
            "description": "item 1",
            "currency": "KES",
        },
    ]
    assert isinstance(first, SchemaEntry) and not first.replayed and again.replayed
    assert (first.ik, first.type, first.status, first.transaction_id) == (
        "split-1",
        "split_bulk_payment",
        ENTRY_POSTED,
        "txn_split-1",
    )
    assert (first.entry_id, first.amount_minor, first.currency, first.reversed_by) == ("ent_split-1", 1500, "KES", None)
    assert [line["account_path"] for line in first.lines] == ["assets/operating", "liabilities/user_balances:u1"]


async def test_entry_refusals_raise_with_the_ledger_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return problem(422, "BALANCE_CONDITION_VIOLATED", "own balance -1 must be at least 0")

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.post_entry("ldg_1", type="initiate_payment", ik="init-1", parameters={"amount": 1})
    assert (refused.value.status, refused.value.code) == (422, "BALANCE_CONDITION_VIOLATED")


async def test_a_failing_ledger_is_retried_then_unavailable() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, text="down") if calls < 3 else httpx.Response(201, json=entry_document("e"))

    async with client_for(handler, attempts_max=3) as client:
        assert (await client.post_entry("ldg_1", type="reconcile_payment", ik="e", parameters={})).ik == "e"
    async with client_for(lambda request: httpx.Response(502, text="bad gateway")) as client:
        with pytest.raises(LedgerUnavailableError):
            await client.reverse_entry("ldg_1", "e")


class ReconcilingLedger:
    """`POST /reconcile` and `GET /entries/{ik}`: an external transaction reconciles once, by one ik."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            ik = request.url.path.rsplit("/", 1)[-1]
            found = self.entries.get(ik)
            return httpx.Response(200, json=found) if found else problem(404, "NOT_FOUND")
        body = json.loads(request.content)
        self.bodies.append(body)
        external_id = body["external_transaction"]["id"]
        for ik, entry in self.entries.items():
            if entry["external_transaction_id"] == external_id:
                # What a race between two requests with one ik can answer (the ledger checks the
                # external id in the batch before the ik): the client must see it as a replay.
                return problem(409, "EXTERNAL_TRANSACTION_ALREADY_RECONCILED", ik=ik)
        self.entries[body["ik"]] = entry_document(body["ik"], body["type"], external_transaction_id=external_id)
        return httpx.Response(201, json=self.entries[body["ik"]])


async def test_reconcile_sends_the_external_transaction_and_treats_our_own_as_a_replay() -> None:
    ledger = ReconcilingLedger()
    external = {"id": "bank-1", "amount_minor": 1500, "currency": "KES", "external_id": "FT123"}
    async with client_for(ledger) as client:
        posted = await client.reconcile(
            "ldg_1",
            type="reconcile_payment",
            ik="match-1:payment",
            parameters={"user_id": "u1", "amount": "1500"},
            external_transaction=external,
            currency="KES",
        )
        again = await client.reconcile(
            "ldg_1",
            type="reconcile_payment",
            ik="match-1:payment",
            parameters={"user_id": "u1", "amount": "1500"},
            external_transaction=external,
        )
        with pytest.raises(LedgerRefusedError) as refused:
            await client.reconcile(
                "ldg_1",
                type="reconcile_payment",
                ik="match-2:payment",
                parameters={"user_id": "u2", "amount": "1500"},
                external_transaction=external,
            )
    assert ledger.bodies[0] == {
        "type": "reconcile_payment",
        "ik": "match-1:payment",
        "parameters": {"user_id": "u1", "amount": "1500"},
        "description": "",
        "currency": "KES",
        "external_transaction": external,
    }
    assert posted.external_transaction_id == "bank-1" and not posted.replayed
    assert again.replayed and again.entry_id == posted.entry_id
    assert (refused.value.status, refused.value.code) == (409, "EXTERNAL_TRANSACTION_ALREADY_RECONCILED")


async def test_reverse_and_get_entry_address_the_ik_as_one_path_segment() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.raw_path.decode()}")
        reversed_ = entry_document("recon:m1:prepare:0", status="reversed", reversed_by="txn_rev")
        if request.method == "POST":
            return httpx.Response(
                200 if len(seen) > 1 else 201, json=reversed_, headers=REPLAYED if len(seen) > 1 else {}
            )
        if "missing" in request.url.path:
            return problem(404, "NOT_FOUND")
        return httpx.Response(200, json=reversed_)

    async with client_for(handler) as client:
        first = await client.reverse_entry("ldg_1", "recon:m1:prepare:0")
        again = await client.reverse_entry("ldg_1", "recon:m1:prepare:0")
        fetched = await client.get_entry("ldg_1", "recon:m1:prepare:0")
        assert await client.get_entry("ldg_1", "missing") is None
        with pytest.raises(LedgerRefusedError) as refused:
            await client.get_entry("ldg_1", "a/b")
    assert seen[0] == "POST /ledgers/ldg_1/entries/recon%3Am1%3Aprepare%3A0/reverse"
    assert (first.status, first.reversed_by, first.replayed, again.replayed) == (ENTRY_REVERSED, "txn_rev", False, True)
    assert fetched is not None and fetched.status == ENTRY_REVERSED and not fetched.replayed
    assert refused.value.code == "UNADDRESSABLE"


@pytest.mark.parametrize(
    "broken",
    [
        {"status": "pending"},
        {"lines": "not a list"},
        {"amount_minor": "many"},
        {"lines": [1]},
        {"ik": None},
    ],
)
async def test_an_unreadable_entry_is_not_trusted(broken: dict[str, Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=entry_document("e") | broken)

    async with client_for(handler) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.get_entry("ldg_1", "e")


# --- Accounts --------------------------------------------------------------------------------


async def test_list_accounts_pages_with_the_account_id_cursor() -> None:
    accounts = [
        account_document(f"bln_{number}", f"liabilities/pending_withdrawals:p{number}", 100 * number)
        for number in range(1, 4)
    ]
    queries: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", "/ledgers/ldg_1/accounts")
        query = dict(request.url.params)
        queries.append(query)
        after = query.get("starting_after")
        rest = [item for item in accounts if after is None or item["id"] > after]
        limit = int(query["limit"])
        return httpx.Response(200, json={"data": rest[:limit], "has_more": len(rest) > limit})

    async with client_for(handler) as client:
        page, has_more = await client.list_accounts(
            "ldg_1", clearing_status="pending", path="liabilities/pending_withdrawals:*", currency="KES", limit=2
        )
        assert has_more and [account.account_id for account in page] == ["bln_1", "bln_2"]
        rest, has_more = await client.list_accounts("ldg_1", limit=2, starting_after=page[-1].account_id)
    assert not has_more and [account.path for account in rest] == ["liabilities/pending_withdrawals:p3"]
    assert queries == [
        {
            "limit": "2",
            "clearing_status": "pending",
            "path": "liabilities/pending_withdrawals:*",
            "currency": "KES",
        },
        {"limit": "2", "starting_after": "bln_2"},
    ]
    assert page[0] == LedgerAccount(
        path="liabilities/pending_withdrawals:p1",
        type="liability",
        currency="KES",
        own_balance_minor=100,
        clearing_status=CLEARING_PENDING,
        linked=False,
        clearing=True,
        template=True,
        account_id="bln_1",
        ledger_id="ldg_1",
    )


async def test_a_plain_account_has_no_clearing_status() -> None:
    cash = account_document(
        "bln_9", "assets/operating", -250, type="asset", flags={"linked": True, "clearing": False, "template": False}
    )

    async with client_for(lambda request: httpx.Response(200, json={"data": [cash], "has_more": False})) as client:
        (account,), _ = await client.list_accounts("ldg_1")
    assert (account.type, account.own_balance_minor, account.clearing_status) == ("asset", -250, None)
    assert (account.linked, account.clearing, account.template) == (True, False, False)


@pytest.mark.parametrize(
    "answer",
    [
        {"data": []},
        {"data": {}, "has_more": False},
        {"data": [account_document("b", "liabilities/x", 1, clearing_status="stuck")], "has_more": False},
        {"data": [account_document("b", "liabilities/x", 1) | {"own_balance_minor": "lots"}], "has_more": False},
        {"data": [account_document("b", "liabilities/x", 1) for _ in range(3)], "has_more": False},
    ],
)
async def test_an_unreadable_account_page_is_not_trusted(answer: dict[str, Any]) -> None:
    async with client_for(lambda request: httpx.Response(200, json=answer)) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.list_accounts("ldg_1", limit=2)
