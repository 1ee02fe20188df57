"""Where a decision's milliseconds go: the three ledger calls the HTTP path makes (the hold, then the
markup fee and the card primary read together), timed with authorization's own ledger client and the
same postings, one decision at a time: each call alone, and the fee with the read as the path asks
them. Against one-at-a-time decisions, the rest is authorization's own work (its PostgreSQL
transactions, the request and the answer)."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bench.authorization.load import Card
from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import (
    AuthorizationRequest,
    Channel,
    markup_fee_minor,
    pending_authorization,
)
from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    CARD_PRIMARY,
    CardAccount,
    CardAccountStatus,
    CardAccountTerms,
)
from clearway.platform.ledger import HttpLedgerClient

AMOUNT_MINOR = 1_000
NAMES = {
    "card:primary": "card_primary",
    "fees:payable": "fees_payable",
    "transaction:interest": "transaction_interest",
    "billed:balance": "billed_balance",
    "overdue:balance": "overdue_balance",
    "overdue:interest": "overdue_interest",
}


def _account(card: Card) -> CardAccount:
    now = datetime.now(UTC)
    return CardAccount(
        id=card.card_account_id,
        identity_id="idt_bench",
        currency="USD",
        terms=CardAccountTerms(credit_limit_minor=card.credit_limit_minor, billing_cycle_day=1, payment_due_days=21),
        status=CardAccountStatus.ACTIVE,
        ledger_id="ldg_bench",
        balance_ids={name: card.balances[NAMES[name]] for name in BALANCE_TYPES},
        created_at=now,
        updated_at=now,
    )


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


async def ledger_calls(ledger_url: str, api_key: str, card: Card, calls: int, run_id: str) -> dict[str, Any]:
    """Time each of the decision's ledger calls `calls` times, one at a time, on `card`'s balances."""
    client = HttpLedgerClient(ledger_url, api_key, timeout_ms=10_000, attempts_max=1)
    account = _account(card)
    timings: dict[str, list[float]] = {"hold": [], "fee": [], "balance_read": [], "fee_with_balance_read": []}
    try:
        for index in range(calls):
            request = AuthorizationRequest(
                authorization_id=f"bench-breakdown-{run_id}-{index}",
                card_id=card.card_id,
                amount_minor=AMOUNT_MINOR,
                currency="USD",
                merchant_name="Bench Store",
                merchant_category_code="5411",
                channel=Channel.POS,
                requested_at=datetime.now(UTC),
            )
            authorization = pending_authorization(f"cau_bench{run_id}{index:06d}", request, account, datetime.now(UTC))
            started = time.perf_counter()
            hold = await client.post_with_overdraft_limit(
                postings.hold_posting(authorization, account, AMOUNT_MINOR, generation=0),
                overdraft_limit_minor=card.credit_limit_minor,
            )
            timings["hold"].append((time.perf_counter() - started) * 1000)
            fee = postings.fee_posting(authorization, account, markup_fee_minor(AMOUNT_MINOR, 150))
            if index % 2 == 0:  # each call alone, to see what each costs
                started = time.perf_counter()
                await client.post(fee)
                timings["fee"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await client.get_balance(account.balance_id(CARD_PRIMARY))
                timings["balance_read"].append((time.perf_counter() - started) * 1000)
            else:  # together, as the HTTP path asks them (one wait for both)
                started = time.perf_counter()
                await asyncio.gather(client.post(fee), client.get_balance(account.balance_id(CARD_PRIMARY)))
                timings["fee_with_balance_read"].append((time.perf_counter() - started) * 1000)
            # Release what the timing held, so the card's limit stays for the next call.
            await client.void_hold(hold.transaction_id, reference=postings.void_reference(replace(authorization)))
    finally:
        await client.aclose()
    return {name: _ms(values) for name, values in timings.items()}


def decision_ms(latencies_ms: list[float]) -> dict[str, float]:
    return _ms(latencies_ms)
