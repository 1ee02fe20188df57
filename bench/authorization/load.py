"""The load: card accounts with cards, a deterministic stream of authorization requests (about two
in three within each card's limit), driven over HTTP with a fixed number in flight; then every
decision checked against the ledger."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

CURRENCY = "USD"
AMOUNT_MINOR_MIN, AMOUNT_MINOR_MAX = 1_000, 10_000
APPROVED_SHARE = 0.65  # each card's limit covers about this share of what is asked of it
FEE_MARKUP_BPS = 150


@dataclass(frozen=True)
class Card:
    card_account_id: str
    card_id: str
    credit_limit_minor: int
    balances: dict[str, str]


@dataclass
class Outcome:
    body: dict[str, Any]
    answer: dict[str, Any] | None = None
    status: int = 0
    latency_ms: float = 0.0


@dataclass
class Drive:
    outcomes: list[Outcome]
    seconds: float
    failures: int = 0
    decisions: Counter[str] = field(default_factory=Counter)


def requests_for(cards: list[Card], per_card: list[list[int]], run_id: str) -> list[dict[str, Any]]:
    """Interleaved across cards, so concurrent requests mostly hit different cards (as a network's do),
    while each card still sees its own requests race each other."""
    bodies = []
    for index in range(max(len(amounts) for amounts in per_card)):
        for card, amounts in zip(cards, per_card, strict=True):
            if index < len(amounts):
                bodies.append(
                    {
                        "authorization_id": f"bench-{run_id}-{card.card_id[-8:]}-{index}",
                        "card_id": card.card_id,
                        "amount_minor": amounts[index],
                        "currency": CURRENCY,
                        "merchant_name": "Bench Store",
                        "merchant_category_code": "5411",
                        "channel": "pos",
                        "requested_at": "2026-05-02T09:15:27Z",
                    }
                )
    return bodies


def amounts_per_card(cards_count: int, requests: int, seed: int) -> tuple[list[list[int]], list[int]]:
    """-> the amounts each card is asked for, and each card's credit limit."""
    rng = random.Random(seed)
    per_card = [[] for _ in range(cards_count)]  # type: list[list[int]]
    for index in range(requests):
        per_card[index % cards_count].append(rng.randint(AMOUNT_MINOR_MIN, AMOUNT_MINOR_MAX))
    limits = [max(int(sum(amounts) * APPROVED_SHARE), AMOUNT_MINOR_MAX) for amounts in per_card]
    return per_card, limits


async def open_cards(authorization: httpx.AsyncClient, ledger: httpx.AsyncClient, limits: list[int]) -> list[Card]:
    cards = []
    for limit in limits:
        identity = await ledger.post("/identities", json={"first_name": "Bench", "last_name": uuid.uuid4().hex[:8]})
        identity.raise_for_status()
        opened = await authorization.post(
            "/card-accounts",
            json={
                "identity_id": identity.json()["identity_id"],
                "currency": CURRENCY,
                "credit_limit_minor": limit,
                "billing_cycle_day": 1,
                "payment_due_days": 21,
                "fee_markup_bps": FEE_MARKUP_BPS,
                "pending_interest_rate_bps": 2_000,
                "overdue_interest_rate_bps": 3_000,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        opened.raise_for_status()
        account = opened.json()
        issued = await authorization.post(
            f"/card-accounts/{account['id']}/cards", json={"last_four": "4242", "expires": "09/39"}
        )
        issued.raise_for_status()
        cards.append(Card(account["id"], issued.json()["id"], limit, account["balances"]))
    return cards


async def drive(url: str, api_key: str, bodies: list[dict[str, Any]], concurrency: int) -> Drive:
    """POST every body to `/authorizations` with `concurrency` in flight; latency is per request."""
    outcomes = [Outcome(body) for body in bodies]
    queue: asyncio.Queue[Outcome] = asyncio.Queue()
    for outcome in outcomes:
        queue.put_nowait(outcome)
    # aiohttp for the load itself: far less client CPU per request than httpx, and the client shares
    # the machine's cores with the two services under test.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base_url=url, headers={"X-API-Key": api_key}, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:

        async def worker() -> None:
            while not queue.empty():
                outcome = queue.get_nowait()
                started = time.perf_counter()
                async with session.post("/authorizations", json=outcome.body) as response:
                    outcome.status = response.status
                    outcome.answer = await response.json(content_type=None)
                outcome.latency_ms = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    result = Drive(outcomes=outcomes, seconds=seconds)
    for outcome in outcomes:
        if outcome.status != 201 or outcome.answer is None:
            result.failures += 1
        else:
            result.decisions[f"{outcome.answer['decision']}:{outcome.answer['reason'] or ''}".rstrip(":")] += 1
    return result


async def verify(ledger: httpx.AsyncClient, cards: list[Card], outcomes: list[Outcome]) -> dict[str, Any]:
    """Every approved authorization has its hold on the ledger (inflight, its amount) and declined
    ones have none; per card, what is inflight is the approved total (never over the limit) and
    fees payable is the fees answered."""
    problems: list[str] = []
    checked = 0
    by_card: dict[str, list[dict[str, Any]]] = {card.card_id: [] for card in cards}
    for outcome in outcomes:
        if outcome.answer is not None and outcome.status == 201:
            by_card[outcome.body["card_id"]].append(outcome.answer)
    for card in cards:
        answers = by_card[card.card_id]
        for answer in answers:
            hold = await ledger.get(f"/transactions/reference/authorization:{answer['id']}:hold:0")
            checked += 1
            if answer["decision"] == "approved":
                if hold.status_code != 200 or hold.json()["status"] != "INFLIGHT":
                    problems.append(f"{answer['id']}: approved without an inflight hold")
                elif hold.json()["precise_amount"] != answer["amount_minor"]:
                    problems.append(f"{answer['id']}: hold of {hold.json()['precise_amount']}")
            elif hold.status_code == 200 and hold.json()["status"] not in ("REJECTED", "VOID"):
                problems.append(f"{answer['id']}: declined with a {hold.json()['status']} hold")
        approved = [answer for answer in answers if answer["decision"] == "approved"]
        primary = (await ledger.get(f"/balances/{card.balances['card_primary']}")).json()
        fees = (await ledger.get(f"/balances/{card.balances['fees_payable']}")).json()
        held_minor = sum(answer["amount_minor"] for answer in approved)
        if primary["inflight_debit_balance"] != held_minor:
            problems.append(f"{card.card_id}: inflight {primary['inflight_debit_balance']} != approved {held_minor}")
        if held_minor > card.credit_limit_minor:
            problems.append(f"{card.card_id}: approved {held_minor} over the limit {card.credit_limit_minor}")
        if fees["balance"] != -sum(answer["fee_minor"] for answer in approved):
            problems.append(f"{card.card_id}: fees payable {fees['balance']}")
    return {"decisions_checked": checked, "cards_checked": len(cards), "problems": problems[:20], "ok": not problems}
