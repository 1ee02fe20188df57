"""The ledger client waits out a concurrent duplicate of its own request instead of failing the flow."""

from __future__ import annotations

import httpx
import pytest

from clearway.funding.adapters.ledger_client import HttpLedgerClient
from clearway.funding.domain.postings import Posting
from clearway.funding.service.ports import LedgerAnswerInvalidError, LedgerUnavailableError

IN_PROGRESS = {"code": "IDEMPOTENCY_REQUEST_IN_PROGRESS", "status": 409}


async def test_identity_creation_retries_while_the_same_key_is_in_progress() -> None:
    answers = [httpx.Response(409, json=IN_PROGRESS), httpx.Response(201, json={"identity_id": "idt_1"})]
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        return answers.pop(0)

    client = HttpLedgerClient(
        base_url="http://ledger", api_key="k", timeout_ms=1000, attempts_max=3, transport=httpx.MockTransport(handler)
    )
    try:
        assert await client.create_identity(idempotency_key="ws-1", name="Acme", meta_data={}) == "idt_1"
    finally:
        await client.aclose()
    assert seen == ["ws-1", "ws-1"]


async def test_other_conflicts_are_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(409, json={"code": "REFERENCE_REUSED", "status": 409, "detail": "used"})

    client = HttpLedgerClient(
        base_url="http://ledger", api_key="k", timeout_ms=1000, attempts_max=3, transport=httpx.MockTransport(handler)
    )
    try:
        response = await client._request("POST", "/transactions", json={})
    finally:
        await client.aclose()
    assert response.status_code == 409 and calls == 1


def _posting(reference: str) -> Posting:
    return Posting(
        reference=reference,
        amount_minor=100,
        currency="USD",
        source="@world",
        destination="bln_1",
        allow_overdraft=True,
        description="test",
    )


def _document(reference: str) -> dict[str, object]:
    return {"transaction_id": f"txn_{reference}", "reference": reference, "status": "APPLIED"}


@pytest.mark.parametrize(
    "transactions",
    [
        [_document("ref-a")],  # a slot missing
        [_document("ref-b"), _document("ref-a")],  # slots out of order
    ],
)
async def test_a_bulk_answer_that_breaks_the_contract_is_refused_not_asserted(
    transactions: list[dict[str, object]],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"transactions": transactions, "failures": []})

    client = HttpLedgerClient(
        base_url="http://ledger", api_key="k", timeout_ms=1000, attempts_max=1, transport=httpx.MockTransport(handler)
    )
    try:
        with pytest.raises(LedgerAnswerInvalidError) as invalid:
            await client.post_many([_posting("ref-a"), _posting("ref-b")])
    finally:
        await client.aclose()
    assert isinstance(invalid.value, LedgerUnavailableError)  # callers already retry it later
