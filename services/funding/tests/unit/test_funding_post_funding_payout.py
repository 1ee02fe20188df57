"""Paying out a post-funding: payee wallets ensured concurrently (bounded), then one bulk posting
with a result per payable; and the ledger client's bulk call, chunked and read slot by slot."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from clearway.funding.adapters.ledger_client import BULK_POSTINGS_MAX, HttpLedgerClient
from clearway.funding.domain.payables import Payable, PayableStatus
from clearway.funding.domain.postings import Posting, payable_posting
from clearway.funding.service.linking import WALLETS_IN_FLIGHT_MAX, LedgerPostingRejectedError, pay_payees
from clearway.funding.service.ports import (
    REFUSED,
    LedgerBalance,
    LedgerRefusedError,
    LedgerTransaction,
    LedgerUnavailableError,
)

from .test_funding_invoices_and_totals import funding
from .test_funding_payable_states import payable

OVERDRAWN = "bln_overdrawn"  # postings to it are recorded REJECTED, as an insufficient balance would be
MISSING = "bln_missing"  # postings to it are refused unrecorded, as an unknown balance would be


def funded_payables(count: int, *, payees: int | None = None) -> list[Payable]:
    return [
        payable(
            PayableStatus.FUNDED,
            id=f"pay_{number:03d}",
            payee_id=f"idt_{number % (payees or count):03d}",
            amount_minor=100 + number,
        )
        for number in range(count)
    ]


class BulkLedger:
    """The ledger's `POST /transactions/bulk` (atomic=false) over httpx.MockTransport: a posting
    with a known reference is a replay of the first one, never a second transaction."""

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
            elif item["destination"] == MISSING:
                slots.append(None)
                failures.append({"index": index, "reference": reference, "code": "NOT_FOUND", "detail": "no balance"})
            else:
                rejected = item["destination"] == OVERDRAWN
                transaction = {
                    "transaction_id": f"txn_{len(self.applied) + 1}",
                    "reference": reference,
                    "status": "REJECTED" if rejected else "APPLIED",
                    "rejection_reason": "insufficient funds" if rejected else None,
                    "precise_amount": item["precise_amount"],
                }
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


@contextlib.asynccontextmanager
async def client_for(handler: Any) -> AsyncIterator[HttpLedgerClient]:
    client = HttpLedgerClient(
        base_url="http://ledger", api_key="k", timeout_ms=1000, attempts_max=2, transport=httpx.MockTransport(handler)
    )
    try:
        yield client
    finally:
        await client.aclose()


def postings_for(payables: Sequence[Payable], destination: str = "bln_payee") -> list[Posting]:
    return [payable_posting(funding(), item, destination) for item in payables]


async def test_post_many_sends_chunks_of_the_bound_and_answers_in_order() -> None:
    ledger = BulkLedger()
    postings = postings_for(funded_payables(2 * BULK_POSTINGS_MAX + 7))
    async with client_for(ledger.handler) as client:
        results = await client.post_many(postings)
    assert [len(request["transactions"]) for request in ledger.requests] == [BULK_POSTINGS_MAX, BULK_POSTINGS_MAX, 7]
    assert [result.reference for result in results] == [posting.reference for posting in postings]
    assert {result.status for result in results} == {"APPLIED"}
    first = ledger.requests[0]["transactions"][0]
    assert first == {
        "precise_amount": postings[0].amount_minor,
        "currency": "USD",
        "reference": postings[0].reference,
        "source": "@FundingClearing-fnd_1",
        "destination": "bln_payee",
        "allow_overdraft": False,
        "inflight": False,
        "description": postings[0].description,
        "meta_data": postings[0].meta_data,
    }


async def test_post_many_reads_replays_rejections_and_refusals_slot_by_slot() -> None:
    ledger = BulkLedger()
    payables = funded_payables(4)
    postings = [
        *postings_for(payables[:2]),
        payable_posting(funding(), payables[2], OVERDRAWN),
        payable_posting(funding(), payables[3], MISSING),
    ]
    async with client_for(ledger.handler) as client:
        await client.post_many(postings[:1])  # applied earlier: the bulk call replays it
        replayed, applied, rejected, refused = await client.post_many(postings)
        assert await client.post_many([]) == []
    assert len(ledger.requests) == 2
    assert (replayed.status, replayed.transaction_id) == ("APPLIED", "txn_1")
    assert applied.status == "APPLIED" and applied.transaction_id != replayed.transaction_id
    assert (rejected.status, rejected.rejection_reason) == ("REJECTED", "insufficient funds")
    assert (refused.status, refused.transaction_id) == (REFUSED, "")
    assert refused.rejection_reason == "NOT_FOUND: no balance" and refused.reference == postings[3].reference


async def test_post_many_refused_as_a_whole_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"code": "INVALID_REQUEST", "status": 422, "detail": "bad currency"})

    async with client_for(handler) as client:
        with pytest.raises(LedgerRefusedError) as refused:
            await client.post_many(postings_for(funded_payables(2)))
    assert (refused.value.status, refused.value.code) == (422, "INVALID_REQUEST")


class WalletLedger:
    """The `Ledger` calls a pay-out makes, counting how many wallet look-ups overlap."""

    def __init__(self, statuses: dict[str, str] | None = None) -> None:
        self.statuses = statuses or {}
        self.in_flight = 0
        self.in_flight_max = 0
        self.wallet_calls: list[tuple[str, str]] = []
        self.bulk_calls: list[list[Posting]] = []
        self.unavailable_for: str | None = None

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        self.wallet_calls.append((identity_id, currency))
        self.in_flight += 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if identity_id == self.unavailable_for:
                raise LedgerUnavailableError("POST /balances: 503")
            return LedgerBalance(f"bln_{identity_id}", 0, 0, currency)
        finally:
            self.in_flight -= 1

    async def post_many(self, postings: Sequence[Posting]) -> list[LedgerTransaction]:
        self.bulk_calls.append(list(postings))
        return [
            LedgerTransaction(f"txn_{number}", posting.reference, self.statuses.get(posting.reference, "APPLIED"))
            for number, posting in enumerate(postings)
        ]


async def test_wallets_are_ensured_concurrently_within_the_bound_then_one_bulk_posting() -> None:
    ledger = WalletLedger()
    payables = funded_payables(3 * WALLETS_IN_FLIGHT_MAX, payees=2 * WALLETS_IN_FLIGHT_MAX)
    await pay_payees(ledger, funding(), payables)  # type: ignore[arg-type]
    # One look-up per payee, however many payables it has; never more than the bound at once.
    assert sorted(ledger.wallet_calls) == sorted({(item.payee_id, "USD") for item in payables})
    assert 1 < ledger.in_flight_max <= WALLETS_IN_FLIGHT_MAX
    (postings,) = ledger.bulk_calls
    assert [posting.destination for posting in postings] == [f"bln_{item.payee_id}" for item in payables]
    assert [posting.reference for posting in postings] == [f"funding:fnd_1:payable:{item.id}" for item in payables]


async def test_a_payable_the_ledger_did_not_apply_is_named() -> None:
    payables = funded_payables(3)
    ledger = WalletLedger({f"funding:fnd_1:payable:{payables[1].id}": REFUSED})
    with pytest.raises(LedgerPostingRejectedError, match=f"payable {payables[1].id}: ledger answered {REFUSED}"):
        await pay_payees(ledger, funding(), payables)  # type: ignore[arg-type]


async def test_a_wallet_the_ledger_cannot_give_posts_nothing() -> None:
    payables = funded_payables(4)
    ledger = WalletLedger()
    ledger.unavailable_for = payables[2].payee_id
    with pytest.raises(LedgerUnavailableError):
        await pay_payees(ledger, funding(), payables)  # type: ignore[arg-type]
    assert ledger.bulk_calls == [] and len(ledger.wallet_calls) == 4  # every look-up ran to its end
