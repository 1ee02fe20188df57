"""Statements over HTTP against real PostgreSQL, the real broker and an in-process ledger: JSON by
default, a PDF with `Accept: application/pdf` (parsed back with pypdf), 406 for anything else; the
second statement opens with the first's total and shows the repayment made in between."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from pypdf import PdfReader

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, READER_KEY, RunningFlow
from .flows import clearing_body, issue_card, open_account, request_body

pytestmark = pytest.mark.integration

PDF = {"Accept": "application/pdf"}


def _pdf_text(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)


async def test_a_statement_as_json_or_pdf_and_406_otherwise(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
        service.client(READER_KEY) as reader,
    ):
        account = await open_account(operator, ledger)  # cycle day 1, due 21 days later, 150 bps
        account_id = account["id"]
        card = await issue_card(operator, account_id)
        approved = (await processor.post("/authorizations", json=request_body(card["id"], 200_000))).json()
        assert approved["decision"] == "approved"
        cleared = await processor.post(
            "/clearings",
            json=clearing_body(card["id"], 198_500, approved["authorization_id"], merchant_name="Corner Coffee"),
        )
        assert cleared.status_code == 201, cleared.text
        closed = await operator.post("/admin/jobs/close-cycles", json={"business_date": "2026-06-01"})
        assert closed.status_code == 200, closed.text

        url = f"/card-accounts/{account_id}/statements/1"
        as_json = await reader.get(url)
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        statement = as_json.json()
        # 1,985.00 cleared; the fee re-posted at 29.78 (150 bps of 1,985.00, half up).
        assert (statement["billed_minor"], statement["fees_minor"], statement["total_due_minor"]) == (
            198_500,
            2_978,
            201_478,
        )
        assert statement["minimum_due_minor"] == 2_978 + 1_985  # fees + 1% of the billed principal
        assert (await reader.get(url, headers={"Accept": "application/json"})).json() == statement

        text = _pdf_text(await reader.get(url, headers=PDF))
        for expected in (
            "Statement 1",
            account_id,
            "Cards ending: 4242",
            "Payment due date: 2026-06-22",
            "Credit limit: 5000.00 USD",
            "Corner Coffee",
            "1985.00 USD",
            "29.78 USD",
            "Total due (closing balance) 2014.78 USD",
            "Minimum payment due 49.63 USD",
        ):
            assert expected in text, expected
        browser = await reader.get(url, headers={"Accept": "application/pdf, text/html;q=0.9, */*;q=0.8"})
        assert browser.headers["content-type"] == "application/pdf"

        refused = await reader.get(url, headers={"Accept": "text/html"})
        assert refused.status_code == 406
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "NOT_ACCEPTABLE"
        missing = await reader.get(f"/card-accounts/{account_id}/statements/9", headers=PDF)
        assert (missing.status_code, missing.json()["code"]) == (404, "STATEMENT_NOT_FOUND")
        unknown = await reader.get("/card-accounts/cac_nope/statements/1", headers=PDF)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "STATEMENT_NOT_FOUND")

        # A repayment in the next cycle, then statement 2: it opens with statement 1's total and shows the payment.
        repaid = await operator.post(
            f"/card-accounts/{account_id}/repayments",
            json={"amount_minor": 100_000, "currency": "USD", "reference": f"pay-{uuid.uuid4().hex[:8]}"},
        )
        assert repaid.status_code == 201, repaid.text
        assert (
            await operator.post("/admin/jobs/close-cycles", json={"business_date": "2026-07-01"})
        ).status_code == 200
        second = (await reader.get(f"/card-accounts/{account_id}/statements/2")).json()
        text = _pdf_text(await reader.get(f"/card-accounts/{account_id}/statements/2", headers=PDF))
        assert "Opening balance (previous statement total) 2014.78 USD" in text
        assert "Payments received this period 1000.00 USD" in text
        assert f"Total due (closing balance) {second['total_due_minor'] / 100:.2f} USD" in text
        assert "0 transactions" in text

        # An end user's token or no key reads nothing here.
        assert (await service.client("not-a-key").get(url, headers=PDF)).status_code == 401
