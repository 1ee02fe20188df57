"""Defects `make fuzz` found in the ledger's HTTP API, each pinned by the request that found it."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"page": 10**20}, "VALIDATION_FAILED"),
        ({"page": 2**62, "per_page": 250}, "VALIDATION_FAILED"),
        ({"q": "nul\x00byte"}, "NUL_CHARACTER_NOT_ALLOWED"),
        ({"q": "x" * 100_000}, "VALIDATION_FAILED"),
    ],
    ids=["page-beyond-bigint", "offset-beyond-bigint", "nul-in-query", "huge-query"],
)
async def test_search_transactions_with_out_of_range_input_is_a_400_not_a_500(
    ledger_client: httpx.AsyncClient, body: dict[str, object], code: str
) -> None:
    answer = await ledger_client.post("/search/transactions", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code


@pytest.mark.parametrize(
    ("path", "content", "code"),
    [
        ("/ledgers", b'{"name": "n\\u0000ul"}', "NUL_CHARACTER_NOT_ALLOWED"),
        ("/identities", b'{"meta_data": {"k": "\\ud9cc"}}', "INVALID_UNICODE"),
        ("/ledgers", b'{"name": "big", "meta_data": {"n": 11161103754368468910080}}', "VALIDATION_FAILED"),
        ("/identities", b'{"meta_data": {"n": 11161103754368468910080}}', "VALIDATION_FAILED"),
    ],
    ids=["nul-in-ledger-name", "lone-surrogate-in-meta-data", "meta-data-int-beyond-64-bits", "identity-int"],
)
async def test_text_and_numbers_postgres_cannot_store_are_a_400_not_a_500(
    ledger_client: httpx.AsyncClient, path: str, content: bytes, code: str
) -> None:
    answer = await ledger_client.post(path, content=content, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
