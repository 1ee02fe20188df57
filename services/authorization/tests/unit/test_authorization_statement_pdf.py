"""The statement PDF, parsed back with pypdf: what a cardholder looks for is on it. And how the
statement route picks JSON or PDF from `Accept`, and the minimum payment rule."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from clearway.authorization.adapters.statement_pdf import render_statement_pdf
from clearway.authorization.domain.card_accounts import CardAccountTerms
from clearway.authorization.domain.statements import (
    Statement,
    StatementDocument,
    StatementLine,
    minimum_due_minor,
    statement_from_row,
)
from clearway.authorization.entrypoints.negotiation import negotiate

CLOSED = datetime(2026, 5, 15, 0, 5, tzinfo=UTC)
TERMS = CardAccountTerms(
    credit_limit_minor=500_000,
    billing_cycle_day=15,
    payment_due_days=21,
    fee_markup_bps=150,
    pending_interest_rate_bps=2_000,
    overdue_interest_rate_bps=3_000,
)


def _line(clearing_id: str, merchant: str, amount_minor: int, fee_minor: int) -> StatementLine:
    return StatementLine(
        id=f"ccl_{clearing_id}",
        clearing_id=clearing_id,
        card_id="crd_1",
        merchant_name=merchant,
        merchant_category_code="5814",
        amount_minor=amount_minor,
        fee_minor=fee_minor,
        forced=False,
        cleared_at=datetime(2026, 5, 3, 2, tzinfo=UTC),
    )


def _statement(**changes: object) -> Statement:
    fields: dict[str, object] = {
        "card_account_id": "cac_01seed",
        "number": 2,
        "currency": "USD",
        "period_start": date(2026, 4, 16),
        "period_end": date(2026, 5, 15),
        "due_date": date(2026, 6, 5),
        "status": "open",
        "principal_minor": 450_000,
        "billed_minor": 450_000,
        "fees_minor": 6_750,
        "interest_minor": 274,
        "total_due_minor": 457_024,
        "lines": (
            _line("clr_1", "Corner Coffee", 200_000, 3_000),
            _line("clr_2", "Caf\u00e9 \u2615 Z\u00fcrich", 250_000, 3_750),
        ),
        "closed_at": CLOSED,
        **changes,
    }
    return Statement(**fields)  # type: ignore[arg-type]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_shows_the_account_period_figures_and_transactions() -> None:
    document = StatementDocument(
        statement=_statement(),
        terms=TERMS,
        card_last_fours={"crd_1": "4242"},
        opening_balance_minor=12_345,
        payments_minor=12_345,
    )
    pdf = render_statement_pdf(document)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == "Card statement 2"
    text = _text(pdf)
    for expected in (
        "Statement 2",
        "cac_01seed",
        "4242",
        "2026-04-16 to 2026-05-15",
        "Payment due date: 2026-06-05",
        "Credit limit: 5000.00 USD",
        "123.45 USD",  # opening balance and payments
        "Corner Coffee",
        "2000.00 USD",
        "30.00 USD",
        "2500.00 USD",
        "37.50 USD",
        "4500.00 USD",  # new transactions and principal
        "67.50 USD",  # fees
        "2.74 USD",  # interest
        "4570.24 USD",  # total due
        "115.24 USD",  # minimum: fees 67.50 + interest 2.74 + 1% of 4,500.00
        "20.00% a year",
        "30.00% a year",
        "1.50% of each transaction",
    ):
        assert expected in text, expected
    assert "Caf\u00e9 ? Z\u00fcrich" in text  # outside Latin-1 prints as `?`, never fails


def test_a_statement_without_transactions_still_prints() -> None:
    empty = _statement(lines=(), principal_minor=0, billed_minor=0, fees_minor=0, interest_minor=0, total_due_minor=0)
    text = _text(render_statement_pdf(StatementDocument(empty, TERMS, {}, 0, 0)))
    assert "0 transactions" in text and "Total due (closing balance)" in text


def test_the_minimum_payment_is_what_is_past_plus_a_share_of_new_principal_capped_at_the_total() -> None:
    assert _statement().carried_minor == 0
    assert _statement().minimum_due_minor == 6_750 + 274 + 4_500
    # 1% rounds up: 1% of 0.01 is 0.01.
    assert minimum_due_minor(total_due_minor=100, billed_minor=1, due_in_full_minor=0) == 1
    # Never more than the total.
    assert minimum_due_minor(total_due_minor=50, billed_minor=10_000, due_in_full_minor=40) == 50
    carried = _statement(billed_minor=0, total_due_minor=450_000 + 6_750 + 274)
    assert (carried.carried_minor, carried.minimum_due_minor) == (450_000, 457_024)


def test_a_stored_row_reads_back_as_a_statement() -> None:
    row = {
        "card_account_id": "cac_1",
        "number": 1,
        "currency": "USD",
        "period_start": date(2026, 4, 16),
        "period_end": date(2026, 5, 15),
        "due_date": date(2026, 6, 5),
        "status": "open",
        "principal_minor": 1,
        "billed_minor": 1,
        "fees_minor": 0,
        "interest_minor": 0,
        "total_due_minor": 1,
        "transactions": [
            {
                "id": "ccl_1",
                "clearing_id": "clr_1",
                "card_id": "crd_1",
                "merchant_name": "M",
                "merchant_category_code": "5814",
                "amount_minor": 1,
                "fee_minor": 0,
                "forced": True,
                "cleared_at": "2026-05-03T02:00:00+00:00",
            }
        ],
        "closed_at": CLOSED,
    }
    statement = statement_from_row(row)
    assert statement.lines[0].forced and statement.lines[0].cleared_at == datetime(2026, 5, 3, 2, tzinfo=UTC)


OFFERED = ("application/json", "application/pdf")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/pdf", "application/pdf"),
        ("application/pdf, application/json;q=0.5", "application/pdf"),
        ("application/json;q=0.2, application/pdf;q=0.9", "application/pdf"),
        ("application/*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
        ("application/pdf;q=0, */*", "application/json"),
        ("*/*, application/json;q=0", "application/pdf"),
        ("text/html", None),
        ("application/xml, text/csv", None),
        ("application/pdf;q=oops", None),
    ],
)
def test_accept_picks_json_by_default_pdf_when_asked_and_nothing_otherwise(
    accept: str | None, chosen: str | None
) -> None:
    assert negotiate(accept, OFFERED) == chosen
