"""Seed 002 over the running platform (steps 1-8, then 9-12 with the billing jobs), driven only through the authorization service's
HTTP API and the processor's Kafka topic, as an issuer's back office and a card processor would:
the account and its six ledger balances, $2,000.00 POS approved, ATM $3,000.01 declined
`insufficient_funds`, ATM $3,000.00 (over Kafka) approved, the 1.5% markup fees, the same processor
id again with no second hold, and a reversal. The ledger is only read, to check the seed's figures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.stack import Platform
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

pytestmark = pytest.mark.e2e
USD = "USD"


@pytest_asyncio.fixture(loop_scope="session")
async def clients(running_platform: Platform) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    headers = {"X-API-Key": running_platform.api_key}
    async with (
        httpx.AsyncClient(base_url=running_platform.url("authorization"), headers=headers, timeout=30) as service,
        httpx.AsyncClient(base_url=running_platform.url("ledger"), headers=headers, timeout=30) as ledger,
    ):
        yield service, ledger


def authorization(card_id: str, amount_minor: int, channel: str, processor_id: str | None = None) -> dict[str, Any]:
    return {
        "authorization_id": processor_id or f"e2e-auth-{uuid.uuid4().hex[:12]}",
        "card_id": card_id,
        "amount_minor": amount_minor,
        "currency": USD,
        "merchant_name": "ATM Main St" if channel == "atm" else "Corner Coffee",
        "merchant_category_code": "6011" if channel == "atm" else "5814",
        "channel": channel,
        "requested_at": "2026-05-02T09:15:27Z",
    }


async def test_seed_002_steps_1_to_6_through_authorization(
    running_platform: Platform, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    service, ledger = clients
    # 1 -> 1a: the cardholder (a ledger identity), the account and its six balances.
    identity = await ledger.post("/identities", json={"first_name": "Xavier", "last_name": "Woods"})
    assert identity.status_code == 201, identity.text
    opened = await service.post(
        "/card-accounts",
        json={
            "identity_id": identity.json()["identity_id"],
            "currency": USD,
            "credit_limit_minor": 500_000,
            "billing_cycle_day": 1,
            "payment_due_days": 21,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()
    assert (account["status"], account["fee_markup_bps"], account["available_credit_minor"]) == ("active", 150, 500_000)
    balances = account["balances"]
    for name, balance_id in balances.items():
        document = (await ledger.get(f"/balances/{balance_id}")).json()
        assert (document["balance"], document["meta_data"]["type"]) == (0, name.replace("_", ":", 1))
    card = await service.post(f"/card-accounts/{account['id']}/cards", json={"last_four": "4242", "expires": "09/39"})
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]

    # 2 -> 4: $2,000.00 at a POS, over HTTP.
    pos = await service.post("/authorizations", json=authorization(card_id, 200_000, "pos"))
    assert (pos.status_code, pos.json()["decision"], pos.json()["available_credit_minor"]) == (201, "approved", 300_000)
    # 5 -> 6: ATM $3,000.01 declined, then ATM $3,000.00 over Kafka approved.
    over = await service.post("/authorizations", json=authorization(card_id, 300_001, "atm"))
    assert (over.json()["decision"], over.json()["reason"]) == ("declined", "insufficient_funds")
    atm = authorization(card_id, 300_000, "atm")
    async with started_producer(running_platform.kafka_bootstrap_servers) as producer:
        for _ in range(2):  # the processor sends it twice: one decision, one hold
            await publish_as_processor(
                producer,
                "card.authorization.requested",
                atm,
                key=card_id,
                event_id=uuid.uuid4().hex,
                source="e2e-processor",
            )

    async def decided() -> dict[str, Any] | None:
        page = (await service.get("/authorizations", params={"authorization_id": atm["authorization_id"]})).json()
        return page["data"][0] if page["data"] and page["data"][0]["decision"] else None

    from_kafka = await wait_until(decided, "the ATM authorization sent over Kafka is decided", timeout_s=15)
    assert (from_kafka["decision"], from_kafka["available_credit_minor"]) == ("approved", 0)
    same = await service.post(
        "/authorizations", json=authorization(card_id, 200_000, "pos", pos.json()["authorization_id"])
    )
    assert same.status_code == 200 and same.json()["id"] == pos.json()["id"]

    # The seed's ledger after step 6 (with the issue's $3,000.00 ATM), and 6a's fees at 1.5%.
    primary = (await ledger.get(f"/balances/{balances['card_primary']}")).json()
    assert (primary["balance"], primary["inflight_debit_balance"]) == (0, 500_000)
    assert (await ledger.get(f"/balances/{balances['fees_payable']}")).json()["balance"] == -(3_000 + 4_500)
    figures = (await service.get(f"/card-accounts/{account['id']}")).json()
    assert (figures["available_credit_minor"], figures["pending_minor"], figures["fees_minor"]) == (0, 500_000, 7_500)

    # A reversal of the POS authorization releases its hold.
    reversed_ = await service.post(f"/authorizations/{pos.json()['id']}/reversals", json={})
    assert (reversed_.status_code, reversed_.json()["status"]) == (200, "reversed")
    primary = (await ledger.get(f"/balances/{balances['card_primary']}")).json()
    assert primary["inflight_debit_balance"] == 300_000

    # 7 -> 8: the ATM clears at $2,800.00: committed in part, the rest released; the $45.00 fee is
    # refunded and the recalculated $42.00 posted.
    clearing = {
        "clearing_id": f"e2e-clr-{uuid.uuid4().hex[:12]}",
        "authorization_id": atm["authorization_id"],
        "card_id": card_id,
        "amount_minor": 280_000,
        "currency": USD,
        "merchant_name": "ATM Main St",
        "merchant_category_code": "6011",
        "cleared_at": "2026-05-03T02:00:00Z",
    }
    cleared = await service.post("/clearings", json=clearing)
    assert cleared.status_code == 201, cleared.text
    assert (cleared.json()["committed_minor"], cleared.json()["difference_minor"], cleared.json()["fee_minor"]) == (
        280_000,
        -20_000,
        4_200,
    )
    assert (await service.post("/clearings", json=clearing)).status_code == 200  # the same clearing: no effect
    primary = (await ledger.get(f"/balances/{balances['card_primary']}")).json()
    assert (primary["balance"], primary["inflight_debit_balance"]) == (-280_000, 0)
    assert (await ledger.get(f"/balances/{balances['fees_payable']}")).json()["balance"] == -(3_000 + 4_200)
    assert (await service.get(f"/authorizations/{from_kafka['id']}")).json()["status"] == "cleared"


def _job_days(today: date) -> dict[str, date]:
    """Business dates after today (jobs never run for days before the account existed): a day of
    pending interest, the cycle's close (a day of the month every month has) and the day after it,
    the due date (21 days later) and the first overdue day."""
    interest = today + timedelta(days=1)
    close = today + timedelta(days=2)
    while close.day > 28:
        close += timedelta(days=1)
    due = close + timedelta(days=21)
    return {"interest": interest, "close": close, "due": due, "overdue": due + timedelta(days=1)}


async def _run_job(service: httpx.AsyncClient, job: str, day: date, account_id: str) -> dict[str, Any] | None:
    answer = await service.post(f"/admin/jobs/{job}", json={"business_date": day.isoformat()})
    assert answer.status_code == 200, answer.text
    mine = [run for run in answer.json()["accounts"] if run["card_account_id"] == account_id]
    return mine[0] if mine else None


async def test_seed_002_steps_9_to_12_cycle_close_overdue_and_split_repayment(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    """The rest of the lifecycle over the running platform, time moved only by the jobs' business
    dates: a day's interest on the 5,000.00 held, clearings (the ATM lower, its fee re-posted), the
    cycle's close with statement 1 (also as a PDF), overdue after the due date with its interest,
    one repayment split across everything owed, and the six balances as the seed leaves them."""
    service, ledger = clients
    days = _job_days(datetime.now(UTC).date())
    identity = (await ledger.post("/identities", json={"first_name": "Yara", "last_name": "Cycle"})).json()
    account = (
        await service.post(
            "/card-accounts",
            json={
                "identity_id": identity["identity_id"],
                "currency": USD,
                "credit_limit_minor": 500_000,
                "billing_cycle_day": days["close"].day,
                "payment_due_days": 21,
                "pending_interest_rate_bps": 2_000,
                "overdue_interest_rate_bps": 3_000,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    ).json()
    account_id, balances = account["id"], account["balances"]
    card_id = (
        await service.post(f"/card-accounts/{account_id}/cards", json={"last_four": "1111", "expires": "09/39"})
    ).json()["id"]
    pos = (await service.post("/authorizations", json=authorization(card_id, 200_000, "pos"))).json()
    atm = (await service.post("/authorizations", json=authorization(card_id, 300_000, "atm"))).json()
    assert (pos["decision"], atm["decision"], atm["available_credit_minor"]) == ("approved", "approved", 0)

    # 6b: a day's interest on the 5,000.00 inflight at 20% a year (273.97 -> 274), once per date.
    interest = await _run_job(service, "accrue-interest", days["interest"], account_id)
    assert interest is not None and [p["amount_minor"] for p in interest["posted"]] == [274]
    assert await _run_job(service, "accrue-interest", days["interest"], account_id) is None

    # 7-8: the POS clears exact; the ATM at 2,500.00, its 45.00 fee refunded and 37.50 posted.
    for auth, amount in ((pos, 200_000), (atm, 250_000)):
        body = {
            "clearing_id": f"e2e-clr-{uuid.uuid4().hex[:12]}",
            "authorization_id": auth["authorization_id"],
            "card_id": card_id,
            "amount_minor": amount,
            "currency": USD,
            "merchant_name": auth["merchant_name"],
            "merchant_category_code": auth["merchant_category_code"],
            "cleared_at": datetime.now(UTC).isoformat(),
        }
        assert (await service.post("/clearings", json=body)).status_code == 201

    # 9: the cycle closes on its day, once: statement 1, principal = card primary's outstanding.
    assert await _run_job(service, "close-cycles", days["close"] - timedelta(days=1), account_id) is None
    closed = await _run_job(service, "close-cycles", days["close"], account_id)
    assert closed is not None and closed["statement_number"] == 1
    assert await _run_job(service, "close-cycles", days["close"], account_id) is None
    statement = (await service.get(f"/card-accounts/{account_id}/statements/1")).json()
    primary = (await ledger.get(f"/balances/{balances['card_primary']}")).json()
    assert statement["principal_minor"] == -primary["balance"] == 450_000
    assert (statement["fees_minor"], statement["interest_minor"], statement["due_date"]) == (
        3_000 + 3_750,
        274,
        days["due"].isoformat(),
    )
    pdf = await service.get(f"/card-accounts/{account_id}/statements/1", headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await ledger.get(f"/balances/{balances['billed_balance']}")).json()["balance"] == -450_000

    # 10: nothing on the due date; the day after, billed moves to overdue and overdue interest accrues
    # (30% a year on 4,500.00 for a day: 369.86 -> 370).
    assert (await _run_job(service, "mark-overdue", days["due"], account_id) or {"posted": []})["posted"] == []
    overdue = await _run_job(service, "mark-overdue", days["overdue"], account_id)
    assert overdue is not None and [p["amount_minor"] for p in overdue["posted"]] == [450_000]
    overdue_interest = await _run_job(service, "accrue-interest", days["overdue"], account_id)
    assert overdue_interest is not None and [p["amount_minor"] for p in overdue_interest["posted"]] == [370]

    # 11-12: the statement's total repaid, split in one ledger transaction (overdue principal, fees,
    # interest); the overdue interest is zeroed into the next cycle (card primary -3.70); the same
    # reference again moves nothing; card primary is credited so the credit returns.
    repayment = {"amount_minor": statement["total_due_minor"], "currency": USD, "reference": f"e2e-{uuid.uuid4().hex}"}
    paid = await service.post(
        f"/card-accounts/{account_id}/repayments", json=repayment, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert paid.status_code == 201 and paid.json()["status"] == "posted", paid.text
    assert paid.json()["allocation"] == {
        "overdue_minor": 450_000,
        "billed_minor": 0,
        "fees_minor": 6_750,
        "transaction_interest_minor": 274,
        "excess_minor": 0,
        "overdue_interest_minor": 370,
    }
    again = await service.post(
        f"/card-accounts/{account_id}/repayments", json=repayment, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert (again.status_code, again.json()["id"]) == (200, paid.json()["id"])
    final = {
        name: (await ledger.get(f"/balances/{balance_id}")).json()["balance"] for name, balance_id in balances.items()
    }
    assert final == {
        "card_primary": -370,
        "fees_payable": 0,
        "transaction_interest": 0,
        "billed_balance": 0,
        "overdue_balance": 0,
        "overdue_interest": 0,
    }
    assert (await service.get(f"/card-accounts/{account_id}/statements/1")).json()["status"] == "paid"
    assert (await service.get(f"/card-accounts/{account_id}")).json()["available_credit_minor"] == 500_000 - 370
