"""The ledger client over httpx.MockTransport: what it sends, how it reads the ledger's answers
(shapes as the ledger's render.py writes them), what it retries and what it refuses to trust."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import (
    APPLIED,
    BULK_POSTINGS_MAX,
    INFLIGHT,
    REFUSED,
    REJECTED,
    VOID,
    HttpLedgerClient,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRefusedError,
    LedgerUnavailableError,
    Posting,
    wallet_indicator,
)

IN_PROGRESS = {"code": "IDEMPOTENCY_REQUEST_IN_PROGRESS", "status": 409}
Handler = Callable[[httpx.Request], httpx.Response]


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


def posting(reference: str, destination: str = "bln_payee", **fields: Any) -> Posting:
    return Posting(
        **{
            "amount_minor": 100,
            "currency": "USD",
            "reference": reference,
            "source": "@Clearing-USD",
            "destination": destination,
            "description": f"test {reference}",
            "meta_data": {"reference": reference},
            **fields,
        }
    )


def transaction_document(reference: str, status: str = APPLIED, **fields: Any) -> dict[str, Any]:
    """A transaction as the ledger renders it (the fields the client reads, and some it does not)."""
    return {
        "transaction_id": f"txn_{reference}",
        "parent_transaction": "",
        "amount": 1.0,
        "precise_amount": 100,
        "precision": 100,
        "currency": "USD",
        "reference": reference,
        "status": status,
        "inflight": status == INFLIGHT,
        "meta_data": {},
        **fields,
    }


def balance_document(balance_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "balance_id": balance_id,
        "balance": 5_000,
        "credit_balance": 6_000,
        "debit_balance": 1_000,
        "inflight_balance": -1_500,
        "inflight_credit_balance": 500,
        "inflight_debit_balance": 2_000,
        "currency": "USD",
        "indicator": "",
        "identity_id": "",
        **fields,
    }


# --- Retries -----------------------------------------------------------------------------------


async def test_identity_creation_retries_while_the_same_key_is_in_progress() -> None:
    answers = [httpx.Response(409, json=IN_PROGRESS), httpx.Response(201, json={"identity_id": "idt_1"})]
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        return answers.pop(0)

    async with client_for(handler, attempts_max=3) as client:
        assert await client.create_identity(idempotency_key="ws-1", name="Acme", meta_data={}) == "idt_1"
    assert seen == ["ws-1", "ws-1"]


async def test_other_conflicts_are_refusals_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(409, json={"code": "REFERENCE_REUSED", "status": 409, "detail": "used"})

    async with client_for(handler, attempts_max=3) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.post(posting("ref-a"))
    assert (refused.value.status, refused.value.code, refused.value.detail) == (409, "REFERENCE_REUSED", "used")
    assert calls == 1


async def test_server_errors_and_network_errors_are_retried_then_unavailable() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503, text="down")

    async with client_for(handler, attempts_max=2) as client:
        with pytest.raises(LedgerUnavailableError, match="503"):
            await client.get_transaction("txn_1")
    assert calls == 2


# --- Postings ----------------------------------------------------------------------------------


async def test_post_sends_the_posting_and_reads_a_replay() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path, request.headers["X-API-Key"]) == ("POST", "/transactions", "k")
        bodies.append(json.loads(request.content))
        replay = len(bodies) > 1
        return httpx.Response(
            200 if replay else 201,
            json=transaction_document("ref-a", INFLIGHT),
            headers={"Idempotent-Replayed": "true"} if replay else {},
        )

    async with client_for(handler) as client:
        first = await client.post(posting("ref-a", inflight=True))
        again = await client.post(posting("ref-a", inflight=True))
    assert bodies[0] == {
        "precise_amount": 100,
        "currency": "USD",
        "reference": "ref-a",
        "source": "@Clearing-USD",
        "destination": "bln_payee",
        "allow_overdraft": False,
        "inflight": True,
        "description": "test ref-a",
        "meta_data": {"reference": "ref-a"},
    }
    assert (first.status, first.transaction_id, first.replayed, first.amount_minor) == (
        INFLIGHT,
        "txn_ref-a",
        False,
        100,
    )
    assert first.parent_transaction_id is None and first.rejection_reason is None
    assert again.replayed and again.transaction_id == first.transaction_id


async def test_a_rejected_posting_carries_its_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=transaction_document("ref-a", REJECTED, rejection_reason="insufficient funds"))

    async with client_for(handler) as client:
        result = await client.post(posting("ref-a"))
    assert (result.status, result.rejection_reason) == (REJECTED, "insufficient funds")


class BulkLedger:
    """The ledger's `POST /transactions/bulk` (atomic=false): a posting with a known reference is a
    replay of the first one, never a second transaction."""

    OVERDRAWN = "bln_overdrawn"  # postings to it are recorded REJECTED, as an insufficient balance would be
    MISSING = "bln_missing"  # postings to it are refused unrecorded, as an unknown balance would be

    def __init__(self) -> None:
        self.applied: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/transactions/bulk")
        body = json.loads(request.content)
        self.requests.append(body)
        assert body["atomic"] is False and 1 <= len(body["transactions"]) <= 10_000
        slots: list[dict[str, Any] | None] = []
        failures: list[dict[str, Any]] = []
        for index, item in enumerate(body["transactions"]):
            reference = item["reference"]
            if reference in self.applied:
                slots.append(self.applied[reference])  # a replay: the original transaction, no failure
            elif item["destination"] == self.MISSING:
                slots.append(None)
                failures.append({"index": index, "reference": reference, "code": "NOT_FOUND", "detail": "no balance"})
            else:
                rejected = item["destination"] == self.OVERDRAWN
                transaction = transaction_document(
                    reference,
                    REJECTED if rejected else APPLIED,
                    transaction_id=f"txn_{len(self.applied) + 1}",
                    precise_amount=item["precise_amount"],
                    **({"rejection_reason": "insufficient funds"} if rejected else {}),
                )
                self.applied[reference] = transaction
                slots.append(transaction)
                if rejected:
                    failures.append(
                        {"index": index, "reference": reference, "code": "REJECTED", "detail": "insufficient funds"}
                    )
        return httpx.Response(
            201,
            json={
                "batch_id": f"bulk_{len(self.requests)}",
                "status": "applied",
                "transaction_count": len(slots),
                "failed_count": len(failures),
                "failures": failures[:100],
                "transactions": slots,
            },
        )


async def test_post_many_sends_chunks_of_the_bound_and_answers_in_order() -> None:
    ledger = BulkLedger()
    postings = [posting(f"ref-{number:03d}") for number in range(2 * BULK_POSTINGS_MAX + 7)]
    async with client_for(ledger.handler) as client:
        results = await client.post_many(postings)
        assert await client.post_many([]) == []
    assert [len(request["transactions"]) for request in ledger.requests] == [BULK_POSTINGS_MAX, BULK_POSTINGS_MAX, 7]
    assert [result.reference for result in results] == [item.reference for item in postings]
    assert {result.status for result in results} == {APPLIED}


async def test_post_many_reads_replays_rejections_and_refusals_slot_by_slot() -> None:
    ledger = BulkLedger()
    postings = [
        posting("ref-a"),
        posting("ref-b"),
        posting("ref-c", BulkLedger.OVERDRAWN),
        posting("ref-d", BulkLedger.MISSING),
    ]
    async with client_for(ledger.handler) as client:
        await client.post_many(postings[:1])  # applied earlier: the bulk call replays it
        replayed, applied, rejected, refused = await client.post_many(postings)
    assert len(ledger.requests) == 2
    assert (replayed.status, replayed.transaction_id) == (APPLIED, "txn_1")
    assert applied.status == APPLIED and applied.transaction_id != replayed.transaction_id
    assert (rejected.status, rejected.rejection_reason) == (REJECTED, "insufficient funds")
    assert (refused.status, refused.transaction_id, refused.amount_minor) == (REFUSED, "", None)
    assert refused.rejection_reason == "NOT_FOUND: no balance" and refused.reference == "ref-d"


async def test_post_many_refused_as_a_whole_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"code": "INVALID_REQUEST", "status": 422, "detail": "bad currency"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.post_many([posting("ref-a"), posting("ref-b")])
    assert (refused.value.status, refused.value.code) == (422, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "answer",
    [
        {"transactions": [transaction_document("ref-a")], "failures": []},  # a slot missing
        {"transactions": [transaction_document("ref-b"), transaction_document("ref-a")]},  # slots out of order
        {"transactions": [transaction_document("ref-a"), transaction_document("ref-b", "LOST")]},  # unknown status
        {"transactions": [transaction_document("ref-a"), {"reference": "ref-b"}]},  # no id, no status
        {"batch_id": "bulk_1"},  # no slots at all
        {"transactions": [transaction_document("ref-a"), "ref-b"]},  # a slot that is no transaction
        {"transactions": [transaction_document("ref-a"), None], "failures": [{"code": "NOT_FOUND"}]},  # no index
    ],
)
async def test_a_bulk_answer_that_breaks_the_contract_is_refused_not_asserted(answer: dict[str, Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=answer)

    async with client_for(handler, attempts_max=1) as client:
        with pytest.raises(LedgerAnswerInvalidError) as invalid:
            await client.post_many([posting("ref-a"), posting("ref-b")])
    assert isinstance(invalid.value, LedgerUnavailableError)  # callers already retry it later


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, text="<html>proxy</html>"),
        httpx.Response(201, json=["not", "an", "object"]),
        httpx.Response(201, json=transaction_document("ref-a", "QUEUED")),
        httpx.Response(201, json=transaction_document("ref-a", precise_amount="lots")),
    ],
)
async def test_an_unreadable_answer_is_invalid(answer: httpx.Response) -> None:
    async with client_for(lambda request: answer) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.post(posting("ref-a"))


# --- Holds -------------------------------------------------------------------------------------


async def test_commit_and_void_answer_the_child_transaction_of_the_hold() -> None:
    bodies: list[tuple[str, dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "PUT"
        body = json.loads(request.content)
        bodies.append((request.url.path, body))
        status = APPLIED if body["status"] == "commit" else VOID
        child = transaction_document(
            body["reference"],
            status,
            transaction_id=f"txn_{body['status']}",
            parent_transaction="txn_hold",
            precise_amount=body.get("precise_amount", 100),
        )
        return httpx.Response(200, json=child)

    async with client_for(handler) as client:
        committed = await client.commit_hold("txn_hold", reference="w1:commit", amount_minor=60)
        in_full = await client.commit_hold("txn_hold", reference="w2:commit")
        voided = await client.void_hold("txn_hold", reference="w1:void")
        in_part = await client.void_hold("txn_hold", reference="w2:void", amount_minor=25)
    assert bodies == [
        ("/transactions/inflight/txn_hold", {"status": "commit", "reference": "w1:commit", "precise_amount": 60}),
        ("/transactions/inflight/txn_hold", {"status": "commit", "reference": "w2:commit"}),
        ("/transactions/inflight/txn_hold", {"status": "void", "reference": "w1:void"}),
        ("/transactions/inflight/txn_hold", {"status": "void", "reference": "w2:void", "precise_amount": 25}),
    ]
    assert (in_part.status, in_part.amount_minor) == (VOID, 25)
    assert (committed.status, committed.parent_transaction_id, committed.amount_minor) == (APPLIED, "txn_hold", 60)
    assert (in_full.amount_minor, voided.status, voided.parent_transaction_id) == (100, VOID, "txn_hold")


async def test_a_hold_no_longer_open_is_refused_with_409() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"code": "STATE_CONFLICT", "detail": "hold txn_hold is already settled"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.void_hold("txn_hold", reference="w1:void")
    assert (refused.value.status, refused.value.code) == (409, "STATE_CONFLICT")


# --- Look-ups ----------------------------------------------------------------------------------


def lookup_ledger(documents: dict[str, dict[str, Any]], seen: list[str]) -> Handler:
    """GETs answered from `documents` by raw path (404 as the ledger's problem otherwise)."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        path = request.url.raw_path.decode()
        seen.append(path)
        if path in documents:
            return httpx.Response(200, json=documents[path])
        return httpx.Response(404, json={"code": "NOT_FOUND", "status": 404, "detail": "not found"})

    return handler


async def test_find_transaction_by_reference_and_get_it_by_id() -> None:
    hold = transaction_document("payout:wd_1:hold", INFLIGHT, transaction_id="txn_hold")
    commit = transaction_document("payout:wd_1:commit", APPLIED, transaction_id="txn_c", parent_transaction="txn_hold")
    seen: list[str] = []
    documents = {
        "/transactions/reference/payout%3Awd_1%3Ahold": hold,
        "/transactions/reference/payout%3Awd_1%3Acommit": commit,
        "/transactions/txn_hold": hold,
    }
    async with client_for(lookup_ledger(documents, seen)) as client:
        found = await client.find_transaction("payout:wd_1:hold")
        settled = await client.find_transaction("payout:wd_1:commit")
        assert await client.find_transaction("payout:wd_1:void") is None
        by_id = await client.get_transaction("txn_hold")
        assert await client.get_transaction("txn_nope") is None
    assert found is not None and (found.transaction_id, found.status, found.replayed) == ("txn_hold", INFLIGHT, False)
    assert settled is not None and (settled.status, settled.parent_transaction_id) == (APPLIED, "txn_hold")
    assert by_id == found
    assert seen[2:] == [
        "/transactions/reference/payout%3Awd_1%3Avoid",
        "/transactions/txn_hold",
        "/transactions/txn_nope",
    ]


async def test_a_look_up_the_ledger_refuses_is_not_taken_for_absence() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"code": "FORBIDDEN", "detail": "role reader required"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError, match="FORBIDDEN"):
            await client.find_transaction("payout:wd_1:hold")
        with pytest.raises(LedgerRefusedError):
            await client.find_balance("@Clearing-USD", "USD")


async def test_get_and_find_balances() -> None:
    seen: list[str] = []
    documents = {
        "/balances/bln_1": balance_document("bln_1"),
        "/balances/indicator/%40PayoutClearing-USD/currency/USD": balance_document(
            "bln_2", indicator="@PayoutClearing-USD"
        ),
        "/balances/indicator/wallet%3Aidt_1/currency/KES": balance_document("bln_3", currency="KES"),
    }
    async with client_for(lookup_ledger(documents, seen)) as client:
        balance = await client.get_balance("bln_1")
        assert await client.get_balance("bln_missing") is None
        clearing = await client.find_balance("@PayoutClearing-USD", "USD")
        assert await client.find_balance("@PayoutClearing-USD", "EUR") is None
        wallet = await client.find_wallet("idt_1", "KES")
        assert await client.find_wallet("idt_2", "KES") is None
    assert balance == LedgerBalance("bln_1", 5_000, 2_000, "USD", inflight_credit_minor=500)
    assert balance.available_minor == 3_000
    assert clearing is not None and clearing.balance_id == "bln_2"
    assert wallet is not None and (wallet.balance_id, wallet.currency) == ("bln_3", "KES")
    assert seen[-1] == "/balances/indicator/wallet%3Aidt_2/currency/KES"


async def test_ensure_balance_and_ensure_wallet_get_or_create_by_indicator() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/balances")
        body = json.loads(request.content)
        bodies.append(body)
        created = len(bodies) == 1
        return httpx.Response(201 if created else 200, json=balance_document(f"bln_{len(bodies)}", **body))

    async with client_for(handler) as client:
        clearing = await client.ensure_balance("@PayoutClearing-USD", "USD")
        wallet = await client.ensure_wallet("idt_1", "USD")
        owned = await client.ensure_balance("savings:idt_1", "USD", identity_id="idt_1")
    assert bodies == [
        {"indicator": "@PayoutClearing-USD", "currency": "USD"},
        {"indicator": wallet_indicator("idt_1"), "currency": "USD", "identity_id": "idt_1"},
        {"indicator": "savings:idt_1", "currency": "USD", "identity_id": "idt_1"},
    ]
    assert [clearing.balance_id, wallet.balance_id, owned.balance_id] == ["bln_1", "bln_2", "bln_3"]


async def test_a_balance_answer_without_its_amounts_is_invalid() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"balance_id": "bln_1", "currency": "USD"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.get_balance("bln_1")


async def test_identity_exists_reads_404_as_no() -> None:
    seen: list[str] = []
    documents = {"/identities/idt_1": {"identity_id": "idt_1"}}
    async with client_for(lookup_ledger(documents, seen)) as client:
        assert await client.identity_exists("idt_1")
        assert not await client.identity_exists("idt_2")


# --- Values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_minor": 0},
        {"destination": "@Clearing-USD"},  # the source itself
        {"source": "wallet:idt_1", "allow_overdraft": True},
    ],
)
def test_a_posting_that_cannot_be_right_is_a_programming_error(fields: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        posting("ref-a", **fields)


def test_the_values_import_no_http_library() -> None:
    """A domain layer imports `clearway.platform.ledger` for `Posting`: that must not pull httpx in."""
    code = (
        "import sys\n"
        "from clearway.platform.ledger import Posting, LedgerTransaction\n"
        "assert 'httpx' not in sys.modules, 'httpx imported'\n"
        "from clearway.platform.ledger import HttpLedgerClient\n"
        "assert 'httpx' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_a_value_that_cannot_be_a_path_segment_is_refused_before_sending() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.get_transaction("reference/payout:wd_1:hold")  # would be the reference route
        with pytest.raises(LedgerRefusedError):
            await client.find_wallet("idt/1", "USD")
    assert (refused.value.status, refused.value.code) == (400, "UNADDRESSABLE")
