"""Paying out a post-funding: payee wallets ensured concurrently (bounded), then one bulk posting
with a result per payable. (The ledger client's bulk call itself is tested with the client, in
libs/platform/tests/unit/test_platform_ledger_client.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from clearway.funding.domain.payables import Payable, PayableStatus
from clearway.funding.domain.postings import Posting
from clearway.funding.service.linking import WALLETS_IN_FLIGHT_MAX, LedgerPostingRejectedError, pay_payees
from clearway.funding.service.ports import (
    REFUSED,
    LedgerBalance,
    LedgerTransaction,
    LedgerUnavailableError,
)

from .test_funding_invoices_and_totals import funding
from .test_funding_payable_states import payable


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
