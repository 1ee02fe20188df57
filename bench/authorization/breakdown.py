"""Where a decision's milliseconds go: the one ledger call the HTTP path makes (the hold and its markup
fee posted atomically, answered with card primary's balance), timed with authorization's own ledger
client and the same postings, one decision at a time; beside it, on alternate decisions, the two
waits the path made before (the hold, then the fee and the balance read together). Against
one-at-a-time decisions, the rest is authorization's own work (its PostgreSQL transactions, the
request and the answer)."""

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
    timings: dict[str, list[float]] = {"hold_and_fee_atomic": [], "hold_then_fee_with_balance_read": []}
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
            hold_posting = postings.hold_posting(authorization, account, AMOUNT_MINOR, generation=0)
            fee = postings.fee_posting(authorization, account, markup_fee_minor(AMOUNT_MINOR, 150))
            started = time.perf_counter()
            if index % 2 == 0:  # the path today: one round trip
                answer = await client.post_atomic(
                    [hold_posting, fee], overdraft_limits_minor={hold_posting.reference: card.credit_limit_minor}
                )
                hold = answer.transactions[0]
                timings["hold_and_fee_atomic"].append((time.perf_counter() - started) * 1000)
            else:  # the path before: the hold, then the fee and the balance read together
                hold = await client.post_with_overdraft_limit(
                    hold_posting, overdraft_limit_minor=card.credit_limit_minor
                )
                await asyncio.gather(client.post(fee), client.get_balance(account.balance_id(CARD_PRIMARY)))
                timings["hold_then_fee_with_balance_read"].append((time.perf_counter() - started) * 1000)
            # Release what the timing held, so the card's limit stays for the next call.
            await client.void_hold(hold.transaction_id, reference=postings.void_reference(replace(authorization)))
    finally:
        await client.aclose()
    return {name: _ms(values) for name, values in timings.items()}


def decision_ms(latencies_ms: list[float]) -> dict[str, float]:
    return _ms(latencies_ms)
