"""The ledger client's split posting over httpx.MockTransport: one transaction, fixed distributions
in major units at the currency's precision, the amount their sum, a replay read from the header."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import HttpLedgerClient
from clearway.platform.ledger.splits import distribution_text


def test_distributions_are_exact_major_units() -> None:
    assert distribution_text(250_000, 100) == "2500.00"
    assert distribution_text(1, 100) == "0.01"
    assert distribution_text(7, 1) == "7"
    assert distribution_text(1_234, 1000) == "1.234"


async def test_a_split_is_one_transaction_to_several_destinations() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/transactions")
        seen.append(json.loads(request.content))
        body = {"transaction_id": "txn_1", "reference": "repay:1", "status": "APPLIED", "precise_amount": 255_000}
        return httpx.Response(201, json=body, headers={"Idempotent-Replayed": "true"} if len(seen) > 1 else {})

    client = HttpLedgerClient(
        base_url="http://ledger/", api_key="k", timeout_ms=1000, attempts_max=2, transport=httpx.MockTransport(handler)
    )
    try:
        legs = [("bln_overdue", 250_000), ("bln_fees", 3_000), ("bln_interest", 2_000)]
        first = await client.post_split(reference="repay:1", currency="USD", source="@World-USD", destinations=legs)
        again = await client.post_split(reference="repay:1", currency="USD", source="@World-USD", destinations=legs)
    finally:
        await client.aclose()
    assert (first.status, first.replayed, again.replayed) == ("APPLIED", False, True)
    assert seen[0]["precise_amount"] == 255_000 and seen[0]["precision"] == 100
    assert seen[0]["destinations"] == [
        {"identifier": "bln_overdue", "distribution": "2500.00"},
        {"identifier": "bln_fees", "distribution": "30.00"},
        {"identifier": "bln_interest", "distribution": "20.00"},
    ]
    assert "destination" not in seen[0] and seen[0]["source"] == "@World-USD"


async def test_a_split_refuses_empty_or_repeated_legs() -> None:
    client = HttpLedgerClient(base_url="http://ledger/", api_key="k", timeout_ms=1000, attempts_max=1)
    try:
        with pytest.raises(AssertionError):
            await client.post_split(reference="r", currency="USD", source="@World-USD", destinations=[])
        with pytest.raises(AssertionError):
            await client.post_split(
                reference="r", currency="USD", source="@World-USD", destinations=[("b", 1), ("b", 2)]
            )
    finally:
        await client.aclose()
