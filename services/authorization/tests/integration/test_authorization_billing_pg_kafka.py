"""Seed 002's whole lifecycle through authorization's HTTP API only, against real PostgreSQL, the
real broker and an in-process ledger: $5,000.00 limit; $2,000.00 POS and $3,000.00 ATM approved
($3,000.01 declined); fees; a day's interest (once per date); clearing (the ATM lower, its fee
re-posted); cycle close with statement 1 whose principal is card primary's outstanding; overdue
after the due date; the split repayment; the six balances as the seed leaves them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, RunningFlow
from .flows import balance, clearing_body, issue_card, new_identity, outbox_events, request_body

pytestmark = pytest.mark.integration

NAMES = {
    "card_primary": "card:primary",
    "fees_payable": "fees:payable",
    "transaction_interest": "transaction:interest",
    "billed_balance": "billed:balance",
    "overdue_balance": "overdue:balance",
    "overdue_interest": "overdue:interest",
}


async def _job(client: httpx.AsyncClient, job: str, day: str, account_id: str) -> dict[str, Any]:
    answer = await client.post(f"/admin/jobs/{job}", json={"business_date": day})
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    mine = [run for run in document["accounts"] if run["card_account_id"] == account_id]
    return {"document": document, "mine": mine[0] if mine else None}


async def _balances(ledger: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, int]:
    return {NAMES[name]: int((await balance(ledger, ids[name]))["balance"]) for name in NAMES}


async def test_seed_002_lifecycle_through_the_http_api(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
    ):
        body = {
            "identity_id": await new_identity(ledger),
            "currency": "USD",
            "credit_limit_minor": 500_000,
            "billing_cycle_day": 15,
            "payment_due_days": 21,
            "fee_markup_bps": 150,
            "pending_interest_rate_bps": 2_000,
            "overdue_interest_rate_bps": 3_000,
        }
        opened = await operator.post("/card-accounts", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert opened.status_code == 201, opened.text
        account = opened.json()
        account_id, ids = account["id"], account["balances"]
        card = await issue_card(operator, account_id)

        # Seed 2-6: POS 2,000.00 approved; ATM 3,000.01 declined, 3,000.00 approved; fees 30.00 + 45.00.
        pos = (await processor.post("/authorizations", json=request_body(card["id"], 200_000))).json()
        over = (await processor.post("/authorizations", json=request_body(card["id"], 300_001, channel="atm"))).json()
        atm = (await processor.post("/authorizations", json=request_body(card["id"], 300_000, channel="atm"))).json()
        assert (pos["decision"], over["decision"], over["reason"], atm["decision"]) == (
            "approved",
            "declined",
            "insufficient_funds",
            "approved",
        )
        assert (pos["fee_minor"], atm["fee_minor"], atm["available_credit_minor"]) == (3_000, 4_500, 0)

        # Seed 6b: a day's interest on the 5,000.00 inflight at 20% a year: 273.97 -> 274; once per date.
        first = await _job(operator, "accrue-interest", "2026-05-02", account_id)
        assert first["mine"] is not None
        assert [(p["reference"], p["amount_minor"]) for p in first["mine"]["posted"]] == [
            (f"interest:{account_id}:2026-05-02:pending", 274)
        ]
        again = await _job(operator, "accrue-interest", "2026-05-02", account_id)
        assert again["mine"] is None and again["document"]["posted"] == 0 and again["document"]["skipped"] >= 1
        assert (await balance(ledger, ids["transaction_interest"]))["balance"] == -274

        # Seed 7-8: the POS clears exact; the ATM clears lower (2,500.00): its fee refunded, 37.50 posted.
        exact = await processor.post("/clearings", json=clearing_body(card["id"], 200_000, pos["authorization_id"]))
        lower = await processor.post("/clearings", json=clearing_body(card["id"], 250_000, atm["authorization_id"]))
        assert (exact.status_code, lower.status_code, lower.json()["fee_minor"]) == (201, 201, 3_750)
        state = await balance(ledger, ids["card_primary"])
        assert (state["balance"], state["inflight_debit_balance"]) == (-450_000, 0)
        # Clearing stops pending interest: nothing is inflight the next day.
        assert (await _job(operator, "accrue-interest", "2026-05-03", account_id))["mine"]["posted"] == []

        # Seed 9: not the cycle day -> nothing; the cycle day -> statement 1, principal = card primary's outstanding.
        assert (await _job(operator, "close-cycles", "2026-05-14", account_id))["mine"] is None
        closed = await _job(operator, "close-cycles", "2026-05-15", account_id)
        assert closed["mine"]["statement_number"] == 1
        assert [(p["reference"], p["amount_minor"]) for p in closed["mine"]["posted"]] == [
            (f"statement:{account_id}:1:bill", 450_000)
        ]
        assert (await _job(operator, "close-cycles", "2026-05-15", account_id))["mine"] is None
        page = (await operator.get(f"/card-accounts/{account_id}/statements")).json()
        assert [statement["number"] for statement in page["data"]] == [1]
        statement = (await operator.get(f"/card-accounts/{account_id}/statements/1")).json()
        outstanding = -(await balance(ledger, ids["card_primary"]))["balance"]
        assert statement["principal_minor"] == outstanding == 450_000
        assert sum(line["amount_minor"] for line in statement["transactions"]) == 450_000
        assert (statement["fees_minor"], statement["interest_minor"], statement["due_date"]) == (
            6_750,
            274,
            "2026-06-05",
        )
        assert statement["total_due_minor"] == 450_000 + 6_750 + 274 and statement["status"] == "open"
        assert (await operator.get(f"/card-accounts/{account_id}/statements/2")).status_code == 404
        events = await outbox_events(
            authorization_settings.database_url, "statement.closed", "card_account_id", account_id
        )
        assert [(event["number"], event["principal_minor"]) for event in events] == [(1, 450_000)]
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -450_000

        # Seed 10: on the due date nothing; the day after, billed moves to overdue and overdue interest accrues.
        assert (await _job(operator, "mark-overdue", "2026-06-05", account_id))["mine"]["posted"] == []
        overdue = await _job(operator, "mark-overdue", "2026-06-06", account_id)
        assert [p["amount_minor"] for p in overdue["mine"]["posted"]] == [450_000]
        assert (await _job(operator, "mark-overdue", "2026-06-06", account_id))["mine"] is None
        interest = await _job(operator, "accrue-interest", "2026-06-06", account_id)
        assert [(p["reference"], p["amount_minor"]) for p in interest["mine"]["posted"]] == [
            (f"interest:{account_id}:2026-06-06:overdue", 370)
        ]
        assert (await operator.get(f"/card-accounts/{account_id}/statements/1")).json()["status"] == "overdue"
        figures = (await operator.get(f"/card-accounts/{account_id}")).json()
        assert (figures["billed_minor"], figures["overdue_minor"], figures["interest_minor"]) == (0, 450_000, 644)

        # Seed 11-12: one split repayment of everything owed; card primary credited; overdue interest rolled on.
        repayment = {"amount_minor": 457_024, "currency": "USD", "reference": f"repay-{uuid.uuid4().hex[:8]}"}
        paid = await operator.post(
            f"/card-accounts/{account_id}/repayments", json=repayment, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["status"] == "posted"
        assert paid.json()["allocation"] == {
            "overdue_minor": 450_000,
            "billed_minor": 0,
            "fees_minor": 6_750,
            "transaction_interest_minor": 274,
            "excess_minor": 0,
            "overdue_interest_minor": 370,
        }
        split = await ledger.get(f"/transactions/reference/repayment:{paid.json()['id']}:split")
        assert split.status_code == 200 and split.json()["status"] == "APPLIED"
        # The same reference again (another Idempotency-Key): the same repayment, nothing moves.
        twice = await operator.post(
            f"/card-accounts/{account_id}/repayments", json=repayment, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert (twice.status_code, twice.json()["id"]) == (200, paid.json()["id"])

        assert await _balances(ledger, ids) == {
            "card:primary": -370,
            "fees:payable": 0,
            "transaction:interest": 0,
            "billed:balance": 0,
            "overdue:balance": 0,
            "overdue:interest": 0,
        }
        assert (await operator.get(f"/card-accounts/{account_id}/statements/1")).json()["status"] == "paid"
        figures = (await operator.get(f"/card-accounts/{account_id}")).json()
        assert figures["available_credit_minor"] == 500_000 - 370
