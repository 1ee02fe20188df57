"""Invoices: exact totals, numbering, payment references, fundability, deposit matching, funding states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from stdnum import iso11649

from clearway.funding.domain.errors import IllegalTransitionError, RuleViolationError
from clearway.funding.domain.fundings import (
    Funding,
    FundingKind,
    FundingStatus,
    InvoiceLine,
    LinkedDeposit,
    Recipient,
    check_deposit_matches,
    check_fundable,
    format_invoice_number,
    invoice_total,
    normalize_payment_reference,
    payment_reference_for,
)
from clearway.funding.domain.payables import PayableStatus
from clearway.funding.domain.postings import deposit_posting, hold_reference, payable_posting

from .test_funding_payable_states import payable

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def funding(**changes: object) -> Funding:
    lines = (InvoiceLine("A", 120_050, "pay_a", "idt_a"), InvoiceLine("B", 99_999, "pay_b", "idt_b"))
    base = Funding(
        id="fnd_1",
        workspace_id="default",
        kind=FundingKind.PAYABLES,
        status=FundingStatus.AWAITING_FUNDS,
        currency="USD",
        total_minor=220_049,
        lines=lines,
        invoice_number=format_invoice_number(NOW.date(), 42),
        payment_reference=payment_reference_for(42),
        due_date=date(2024, 5, 9),
        expires_at=NOW + timedelta(days=38),
        recipient=Recipient("Globex Finance", "ap@globex.example"),
        created_by="olga",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def deposit(amount_minor: int = 220_049) -> LinkedDeposit:
    return LinkedDeposit("dep_1", "acme-bank", "trf_1", "acct_operating_usd", amount_minor, "olga", NOW)


def test_totals_are_exact_integer_sums() -> None:
    assert invoice_total([InvoiceLine("x", 1), InvoiceLine("y", 2**53 + 1)]) == 2**53 + 2
    with pytest.raises(AssertionError):
        invoice_total([])
    with pytest.raises(AssertionError):
        funding(total_minor=220_050)  # a total that is not the sum of its lines cannot exist


def test_invoice_numbers_and_payment_references_are_unique_per_sequence() -> None:
    assert format_invoice_number(date(2024, 5, 2), 42) == "CW-2024-000042"
    assert format_invoice_number(date(2025, 1, 1), 1_234_567) == "CW-2025-1234567"
    references = {payment_reference_for(sequence) for sequence in range(1, 2_000)}
    assert len(references) == 1_999
    assert all(iso11649.is_valid(reference) for reference in references)
    with pytest.raises(AssertionError):
        format_invoice_number(date(2024, 1, 1), 0)


def test_payment_references_are_matched_however_they_are_typed() -> None:
    reference = payment_reference_for(7)
    spaced = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4)).lower()
    assert normalize_payment_reference(spaced) == reference
    assert normalize_payment_reference(reference.replace("7", "8")) is None  # check digits catch typos
    assert normalize_payment_reference("INV-2024-0042") is None
    assert normalize_payment_reference(None) is None


def test_fundable_payables_become_invoice_lines() -> None:
    first = payable(PayableStatus.APPROVED, id="pay_a", amount_minor=100)
    second = payable(PayableStatus.APPROVED, id="pay_b", amount_minor=250)
    fundable = check_fundable(["pay_b", "pay_a"], [first, second], "default")
    assert fundable.currency == "USD"
    assert [line.payable_id for line in fundable.lines] == ["pay_b", "pay_a"]
    assert invoice_total(fundable.lines) == 350


def test_unfundable_payables_are_named_by_reason() -> None:
    approved = payable(PayableStatus.APPROVED, id="pay_ok")
    created = payable(PayableStatus.CREATED, id="pay_new")
    funded = payable(PayableStatus.IN_FUNDING, id="pay_busy")
    euro = payable(PayableStatus.APPROVED, id="pay_eur", currency="EUR")
    theirs = payable(PayableStatus.APPROVED, id="pay_theirs", workspace_id="other")
    with pytest.raises(RuleViolationError) as refused:
        check_fundable(
            ["pay_ok", "pay_new", "pay_busy", "pay_eur", "pay_theirs", "pay_x"],
            [approved, created, funded, euro, theirs],
            "default",
        )
    assert refused.value.http_status == 422
    assert refused.value.extra["offending_payable_ids"] == sorted(
        ["pay_new", "pay_busy", "pay_eur", "pay_theirs", "pay_x"]
    )
    assert refused.value.extra["reasons"] == {
        "not_found": ["pay_theirs", "pay_x"],
        "not_approved": ["pay_new"],
        "already_in_funding": ["pay_busy"],
        "currency_mismatch": ["pay_eur"],
    }


def test_a_deposit_must_equal_the_total_in_its_currency() -> None:
    check_deposit_matches(funding(), 220_049, "USD")
    for amount, currency in ((220_048, "USD"), (220_050, "USD"), (220_049, "EUR")):
        with pytest.raises(RuleViolationError) as refused:
            check_deposit_matches(funding(), amount, currency)
        assert refused.value.extra["invoice_total_minor"] == 220_049
        assert refused.value.extra["deposit_amount_minor"] == amount


def test_funding_states() -> None:
    linking = funding().start_linking(deposit(), NOW)
    paid_out = linking.mark_funded(NOW).mark_paid_out(NOW)
    assert paid_out.status is FundingStatus.PAID_OUT
    with pytest.raises(IllegalTransitionError) as refused:
        paid_out.cancel("olga", NOW)
    assert refused.value.extra["current_status"] == "paid_out"
    with pytest.raises(IllegalTransitionError):
        linking.start_linking(deposit(), NOW)
    with pytest.raises(IllegalTransitionError):
        funding().mark_funded(NOW)
    assert funding().cancel("olga", NOW).status is FundingStatus.CANCELLED
    with pytest.raises(AssertionError):
        funding().expire(NOW)  # not overdue yet
    assert funding().expire(NOW + timedelta(days=60)).status is FundingStatus.EXPIRED
    with pytest.raises(AssertionError):
        funding().start_linking(deposit(amount_minor=1), NOW)  # never linked with another amount


def test_ledger_postings_have_deterministic_references() -> None:
    linked = funding().start_linking(deposit(), NOW)
    cash_in = deposit_posting(linked)
    assert (cash_in.source, cash_in.destination) == ("@Cash-acct_operating_usd", "@FundingClearing-fnd_1")
    assert cash_in.reference == "funding:fnd_1:deposit:trf_1" and cash_in.allow_overdraft
    leg = payable_posting(linked, payable(PayableStatus.FUNDED, id="pay_a", funding_id="fnd_1"), "bln_wallet")
    assert leg.reference == "funding:fnd_1:payable:pay_a" and not leg.allow_overdraft
    assert (leg.source, leg.destination) == ("@FundingClearing-fnd_1", "bln_wallet")
    assert hold_reference("pay_a", 2) == "funding:payable:pay_a:hold:2"
