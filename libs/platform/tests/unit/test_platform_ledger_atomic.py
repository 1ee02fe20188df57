"""The ledger client's atomic postings over httpx.MockTransport: all-or-none bulks answered with the
balances they left, refusals read as failures (with the balances as they stand), other refusals raised."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import (
    INFLIGHT,
    REJECTED,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRefusedError,
    Posting,
)

from .test_platform_ledger_credit_lines import client_for, hold

FEE = Posting(
    amount_minor=30, currency="USD", reference="cardauth:a1:fee", source="bln_fees", destination="@FeeIncome-USD",
    allow_overdraft=True,
)  # fmt: skip


def balance_document(balance_id: str, balance: int, inflight_debit: int) -> dict[str, Any]:
    return {"balance_id": balance_id, "balance": balance, "inflight_debit_balance": inflight_debit,
            "inflight_credit_balance": 0, "currency": "USD"}  # fmt: skip


def transaction_document(posting: Posting, status: str) -> dict[str, Any]:
    return {"transaction_id": f"txn_{posting.reference}", "reference": posting.reference, "status": status,
            "precise_amount": posting.amount_minor}  # fmt: skip


async def test_postings_go_out_atomic_with_their_overdraft_limits_and_come_back_with_balances() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/transactions/bulk")
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={
            "transactions": [transaction_document(hold(2_000_00), INFLIGHT), transaction_document(FEE, "APPLIED")],
            "balances": [balance_document("bln_primary", 0, 2_000_00)],
        })  # fmt: skip

    async with client_for(handler) as client:
        answer = await client.post_atomic([hold(2_000_00), FEE], overdraft_limits_minor={hold(1).reference: 5_000_00})
    assert answer.applied and [item.status for item in answer.transactions] == [INFLIGHT, "APPLIED"]
    assert answer.balances == {"bln_primary": LedgerBalance("bln_primary", 0, 2_000_00, "USD")}
    (body,) = sent
    assert body["atomic"] is True and body["include_balances"] is True
    assert body["transactions"][0]["overdraft_limit"] == 5000.0 and body["transactions"][0]["precision"] == 100
    assert "overdraft_limit" not in body["transactions"][1]


async def test_a_refused_bulk_answers_its_failures_and_the_balances_as_they_stand() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={
            "code": "LEDGER_ERROR", "detail": "atomic bulk refused",
            "failures": [{"index": 0, "reference": hold(1).reference, "code": REJECTED, "detail": "insufficient"}],
            "balances": [balance_document("bln_primary", -4_000_00, 0)],
        })  # fmt: skip

    async with client_for(handler) as client:
        answer = await client.post_atomic([hold(3_000_01), FEE], overdraft_limits_minor={hold(1).reference: 5_000_00})
    assert not answer.applied and answer.transactions == ()
    assert [(item.index, item.code) for item in answer.failures] == [(0, REJECTED)]
    assert answer.balances["bln_primary"].balance_minor == -4_000_00


async def test_a_request_refused_before_posting_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "NOT_FOUND", "detail": "balance bln_primary not found"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.post_atomic([hold(1)])
    assert (refused.value.status, refused.value.code) == (404, "NOT_FOUND")


async def test_an_answer_without_a_slot_per_posting_is_invalid() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"transactions": [transaction_document(FEE, "APPLIED")], "balances": []})

    async with client_for(handler) as client:
        with pytest.raises(LedgerAnswerInvalidError):
            await client.post_atomic([hold(1), FEE])
