"""The ledger client's hold listing over httpx.MockTransport: inflight holds a page at a time, and
what a hold still holds after its commits and voids. Answers are shaped as the ledger's
`transaction_json` writes them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clearway.platform.ledger import HttpLedgerClient, LedgerAnswerInvalidError, LedgerHold

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


def transaction(transaction_id: str, status: str, amount_minor: int, **fields: Any) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "parent_transaction": "",
        "precise_amount": amount_minor,
        "currency": "KES",
        "reference": f"ref-{transaction_id}",
        "status": status,
        "source": "bln_wallet",
        "destination": "bln_clearing",
        "created_at": "2026-11-29T12:00:00+00:00",
        **fields,
    }


HOLD = LedgerHold(
    transaction_id="txn_hold",
    reference="payout:wd_1:hold",
    amount_minor=10_000,
    currency="KES",
    source="bln_wallet",
    destination="bln_clearing",
    created_at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
)


async def test_inflight_holds_reads_one_page_newest_first() -> None:
    asked: list[dict[str, str]] = []
    split = transaction(
        "txn_2",
        "INFLIGHT",
        300,
        source="",
        sources=[{"balance_id": "bln_a", "precise_amount": 100}, {"balance_id": "bln_b", "precise_amount": 200}],
    )

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        return httpx.Response(200, json=[transaction("txn_1", "INFLIGHT", 5_000, reference="payout:wd_1:hold"), split])

    async with client_for(handler) as ledger:
        holds = await ledger.inflight_holds(limit=2, offset=40)
    assert asked == [{"status": "INFLIGHT", "limit": "2", "offset": "40"}]
    assert holds[0] == LedgerHold(
        transaction_id="txn_1",
        reference="payout:wd_1:hold",
        amount_minor=5_000,
        currency="KES",
        source="bln_wallet",
        destination="bln_clearing",
        created_at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    )
    assert holds[1].source == "bln_a,bln_b"


@pytest.mark.parametrize(
    "answer",
    [
        {"data": []},  # not a list
        [transaction("txn_1", "APPLIED", 5_000)],  # not a hold
        [transaction("txn_1", "INFLIGHT", 5_000, created_at="2026-11-29T12:00:00")],  # no time zone
        [transaction("txn_1", "INFLIGHT", 5_000)] * 3,  # more than asked for
    ],
)
async def test_a_listing_that_breaks_the_contract_is_refused(answer: Any) -> None:
    async with client_for(lambda _request: httpx.Response(200, json=answer)) as ledger:
        with pytest.raises(LedgerAnswerInvalidError):
            await ledger.inflight_holds(limit=2)


async def test_what_a_hold_still_holds_is_its_amount_less_its_commits_and_voids() -> None:
    def children(*documents: dict[str, Any]) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            assert request.url.params["parent_transaction"] == "txn_hold"
            return httpx.Response(200, json=list(documents))

        return handler

    child = {"parent_transaction": "txn_hold"}
    async with client_for(children()) as ledger:
        assert await ledger.hold_remaining_minor(HOLD) == 10_000
    async with client_for(children(transaction("txn_c1", "APPLIED", 4_000, **child))) as ledger:
        assert await ledger.hold_remaining_minor(HOLD) == 6_000
    settled = children(transaction("txn_c1", "APPLIED", 4_000, **child), transaction("txn_v", "VOID", 6_000, **child))
    async with client_for(settled) as ledger:
        assert await ledger.hold_remaining_minor(HOLD) == 0
    async with client_for(children(transaction("txn_c1", "APPLIED", 4_000))) as ledger:
        with pytest.raises(LedgerAnswerInvalidError):  # not a child of the hold
            await ledger.hold_remaining_minor(HOLD)
    async with client_for(children(transaction("txn_c1", "APPLIED", 12_000, **child))) as ledger:
        with pytest.raises(LedgerAnswerInvalidError):  # settled more than it held
            await ledger.hold_remaining_minor(HOLD)


async def test_a_hold_settled_in_many_parts_is_summed_page_by_page() -> None:
    offsets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offsets.append(request.url.params["offset"])
        count = 100 if request.url.params["offset"] == "0" else 20
        part = transaction("txn_c", "APPLIED", 50, parent_transaction="txn_hold")
        return httpx.Response(200, json=[part] * count)

    async with client_for(handler) as ledger:
        assert await ledger.hold_remaining_minor(HOLD) == 10_000 - 120 * 50
    assert offsets == ["0", "100"]
