"""Seed, ledger and command bodies: construction, JSON round trip, and the commands' own rules."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from clearway.contracts import events as ev

AT = datetime(2024, 5, 2, 14, 3, tzinfo=UTC)
PAYABLE: dict[str, Any] = {
    "payable_id": "pay_01",
    "workspace_id": "wsp_01",
    "payee_id": "pye_01",
    "amount_minor": 10000,
    "currency": "USD",
    "status": "approved",
    "external_id": None,
    "occurred_at": AT,
}
TRANSACTION: dict[str, Any] = {
    "transaction_id": "txn_01",
    "reference": "funding:fnd_01:pay_01",
    "status": "APPLIED",
    "amount_minor": 2000,
    "precise_amount": 2000,
    "precision": 100,
    "currency": "USD",
    "source": "@World-USD",
    "destination": "bln_01",
    "occurred_at": AT,
}

SAMPLES: list[BaseModel] = [
    ev.PayableCreated(**{**PAYABLE, "status": "pending_approval"}),
    ev.PayableApproved(**PAYABLE, approved_by="usr_1", approved_at=AT),
    ev.PayableUnapproved(**PAYABLE),
    ev.PayableCancelled(**PAYABLE, reason="duplicate"),
    ev.PayablePaid(**PAYABLE, funding_id="fnd_01", ledger_transaction_reference="funding:fnd_01:pay_01"),
    ev.FundingCreated(
        funding_id="fnd_01",
        workspace_id="wsp_01",
        payable_ids=["pay_01", "pay_02"],
        total_minor=30000,
        currency="USD",
        invoice_number="INV-0042",
        payment_reference="FND-0042",
        due_date=date(2024, 6, 1),
        occurred_at=AT,
    ),
    ev.FundingDepositLinked(
        funding_id="fnd_01",
        workspace_id="wsp_01",
        transfer_id="bank-9912",
        processor="acme-bank",
        amount_minor=30000,
        currency="USD",
        payable_ids=["pay_01", "pay_02"],
        occurred_at=AT,
    ),
    ev.FundingInvoiceSent(
        funding_id="fnd_01",
        workspace_id="wsp_01",
        invoice_number="INV-0042",
        recipient="finance@example.com",
        total_minor=30000,
        currency="USD",
        due_date=date(2024, 6, 1),
        occurred_at=AT,
    ),
    ev.LedgerTransactionApplied(**TRANSACTION, meta_data={"payable_id": "pay_01", "nested": {"n": [1, 2]}}),
    ev.LedgerTransactionInflight(**{**TRANSACTION, "status": "INFLIGHT"}),
    ev.LedgerTransactionCommitted(**{**TRANSACTION, "status": "COMMIT", "parent_transaction": "txn_00"}),
    ev.LedgerTransactionVoided(**{**TRANSACTION, "status": "VOID", "parent_transaction": "txn_00"}),
    ev.LedgerTransactionRejected(**{**TRANSACTION, "status": "REJECTED", "rejection_reason": "overdraft limit"}),
    ev.LedgerTransactionApplied(
        **{**TRANSACTION, "destination": None},
        destinations=[
            ev.Distribution(identifier="bln_02", distribution="2000"),
            ev.Distribution(identifier="bln_03", distribution="left"),
        ],
    ),
    ev.LedgerEntryPosted(
        ledger_id="ldg_01",
        entry_type="reconcile_payment",
        ik="rec:bank-9912",
        lines=[
            ev.EntryLine(account_path="assets/operating", balance_id="bln_1", amount_minor=30000, currency="USD"),
            ev.EntryLine(
                account_path="liabilities/users:wsp_01", balance_id="bln_2", amount_minor=30000, currency="USD"
            ),
        ],
        occurred_at=AT,
    ),
    ev.LedgerClearingCleared(
        ledger_id="ldg_01",
        account_path="liabilities/bulk_receivables",
        balance_id="bln_9",
        currency="USD",
        occurred_at=AT,
    ),
    ev.LedgerBalanceMonitorTriggered(
        monitor_id="mon_1",
        balance_id="bln_9",
        currency="USD",
        condition=ev.MonitorCondition(field="balance", operator="<", value_minor=-500000),
        observed_value_minor=-500100,
        occurred_at=AT,
    ),
    ev.LedgerTransactionRequested(
        reference="auth:auth_5521",
        amount_minor=200000,
        currency="USD",
        source="bln_card_primary",
        destination="@World-USD",
        allow_overdraft=True,
        overdraft_limit=500000,
        inflight=True,
        inflight_expires_at=AT,
        description="Card transaction",
    ),
    ev.LedgerEntryRequested(
        ledger_id="ldg_01", entry_type="split_bulk_payment", ik="split:bank-9912:1", parameters={"amount": "2000"}
    ),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: type(sample).__name__)
def test_json_round_trip(sample: BaseModel) -> None:
    assert type(sample).model_validate_json(sample.model_dump_json()) == sample


def test_events_are_immutable() -> None:
    with pytest.raises(ValidationError):
        SAMPLES[0].payable_id = "other"  # type: ignore[attr-defined]


def test_entry_line_amounts_are_signed() -> None:
    line = ev.EntryLine(account_path="assets/operating", balance_id="b", amount_minor=-5, currency="USD")
    assert line.amount_minor == -5


def test_ledger_money_must_be_non_negative() -> None:
    with pytest.raises(ValidationError):
        ev.LedgerTransactionApplied(**{**TRANSACTION, "amount_minor": -1})


REQUEST: dict[str, Any] = {
    "reference": "r1",
    "amount_minor": 100,
    "currency": "USD",
    "source": "bln_1",
    "destination": "bln_2",
}


def test_split_request_with_precise_amount() -> None:
    request = ev.LedgerTransactionRequested(
        reference="repay:inv_1",
        precise_amount=250000,
        precision=100,
        currency="USD",
        source="@World-USD",
        destinations=[
            ev.Distribution(identifier="bln_billed", distribution="2000"),
            ev.Distribution(identifier="bln_fees", distribution="150"),
            ev.Distribution(identifier="bln_interest", distribution="left"),
        ],
        allow_overdraft=True,
    )
    assert request.amount_minor is None and request.destinations is not None


@pytest.mark.parametrize(
    "change",
    [
        {"amount_minor": None},  # no amount at all
        {"precise_amount": 100, "precision": 100},  # both amount forms
        {"amount_minor": None, "precise_amount": 100},  # precise_amount without precision
        {"source": None},
        {"sources": [{"identifier": "bln_3", "distribution": "100"}]},  # source and sources
        {"destination": None},
        {"overdraft_limit": 5000},  # without allow_overdraft
        {"inflight_expires_at": AT},  # without inflight
        {"amount_minor": 100.0},
        {"precision": 0, "precise_amount": 1, "amount_minor": None},
    ],
)
def test_invalid_transaction_requests_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ev.LedgerTransactionRequested.model_validate({**REQUEST, **change})


def test_entry_parameters_are_strings() -> None:
    with pytest.raises(ValidationError):
        ev.LedgerEntryRequested.model_validate(
            {"ledger_id": "l", "entry_type": "t", "ik": "k", "parameters": {"amount": 2000}}
        )
