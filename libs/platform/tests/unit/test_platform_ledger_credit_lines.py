"""The ledger client's credit-line calls over httpx.MockTransport: account balances opened by
indicator in a ledger for an identity, and overdraft holds carrying their limit in major units."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import INFLIGHT, REJECTED, HttpLedgerClient, LedgerAnswerInvalidError, Posting

Handler = Callable[[httpx.Request], httpx.Response]


@contextlib.asynccontextmanager
async def client_for(handler: Handler) -> AsyncIterator[HttpLedgerClient]:
    client = HttpLedgerClient(
        base_url="http://ledger/", api_key="k", timeout_ms=1000, attempts_max=2, transport=httpx.MockTransport(handler)
    )
    try:
        yield client
    finally:
        await client.aclose()


def hold(amount_minor: int, *, reference: str = "cardauth:a1:hold:0") -> Posting:
    return Posting(
        amount_minor=amount_minor,
        currency="USD",
        reference=reference,
        source="bln_primary",
        destination="@World-USD",
        allow_overdraft=True,
        inflight=True,
        description="Card transaction",
    )


async def test_an_account_balance_is_opened_in_its_ledger_for_its_identity() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/balances")
        seen.append(json.loads(request.content))
        return httpx.Response(
            201, json={"balance_id": "bln_1", "balance": 0, "inflight_debit_balance": 0, "currency": "USD"}
        )

    async with client_for(handler) as client:
        balance = await client.open_account_balance(
            ledger_id="ldg_1",
            identity_id="idt_1",
            currency="USD",
            indicator="card:cac_1:card:primary",
            meta_data={"type": "card:primary"},
        )
    assert balance.balance_id == "bln_1" and balance.available_minor == 0
    assert seen == [
        {
            "ledger_id": "ldg_1",
            "identity_id": "idt_1",
            "currency": "USD",
            "indicator": "card:cac_1:card:primary",
            "meta_data": {"type": "card:primary"},
        }
    ]


@pytest.mark.parametrize(("limit_minor", "major"), [(500_000, 5000.0), (123_456, 1234.56), (1, 0.01)])
async def test_an_overdraft_hold_sends_its_limit_in_major_units_and_its_amount_exactly(
    limit_minor: int, major: float
) -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        answer = {
            "transaction_id": "txn_1",
            "reference": body["reference"],
            "status": INFLIGHT,
            "precise_amount": body["precise_amount"],
        }
        return httpx.Response(201, json=answer)

    async with client_for(handler) as client:
        answer = await client.post_with_overdraft_limit(hold(300_001), overdraft_limit_minor=limit_minor)
    assert answer.status == INFLIGHT and answer.amount_minor == 300_001 and not answer.replayed
    body = bodies[0]
    assert body["overdraft_limit"] == major and body["precision"] == 100
    assert (body["precise_amount"], body["allow_overdraft"], body["inflight"]) == (300_001, True, True)
    assert (body["source"], body["destination"]) == ("bln_primary", "@World-USD")


async def test_a_refused_hold_is_an_answer_and_a_replay_is_flagged() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = {"transaction_id": "txn_2", "reference": "r", "status": REJECTED, "rejection_reason": "limit"}
        return httpx.Response(200, json=answer, headers={"Idempotent-Replayed": "true"})

    async with client_for(handler) as client:
        answer = await client.post_with_overdraft_limit(hold(1), overdraft_limit_minor=1)
    assert (answer.status, answer.rejection_reason, answer.replayed) == (REJECTED, "limit", True)


async def test_an_unreadable_answer_is_an_invalid_answer_not_a_decision() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"transaction_id": "txn_3", "reference": "r", "status": "MAYBE"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.post_with_overdraft_limit(hold(1), overdraft_limit_minor=1)


async def test_a_zero_limit_never_reaches_the_ledger_which_reads_it_as_unlimited() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    async with client_for(handler) as client:
        with pytest.raises(AssertionError):
            await client.post_with_overdraft_limit(hold(1), overdraft_limit_minor=0)


async def test_a_refund_is_asked_once_and_found_again_by_its_reference() -> None:
    refunded: list[str] = []

    def transaction(transaction_id: str, reference: str) -> dict[str, Any]:
        return {"transaction_id": transaction_id, "reference": reference, "status": "APPLIED", "precise_amount": 3000}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/transactions/reference/fee:1:refund":
            if refunded:
                return httpx.Response(200, json=transaction("txn_refund", "fee:1:refund"))
            return httpx.Response(404, json={"error": "not found"})
        if path == "/transactions/reference/fee:1":
            return httpx.Response(200, json=transaction("txn_fee", "fee:1"))
        assert (request.method, path) == ("POST", "/transactions/refund-transaction/txn_fee")
        refunded.append(path)
        return httpx.Response(201, json=transaction("txn_refund", "fee:1:refund"))

    async with client_for(handler) as client:
        first = await client.refund_transaction("fee:1", refund_reference="fee:1:refund")
        again = await client.refund_transaction("fee:1", refund_reference="fee:1:refund")
    assert first is not None and again is not None
    assert (first.transaction_id, again.transaction_id, len(refunded)) == ("txn_refund", "txn_refund", 1)
