"""Repayment events from the domain's rows: what a transfer is refused for (another currency, never
converted), the split `card.repayment.applied` carries (the allocation as recorded), and a refused
repayment's `card.repayment.refused` (nothing allocated, both currencies named)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from clearway.authorization.domain.billing import (
    CURRENCY_MISMATCH,
    NOTHING_ALLOCATED,
    Owed,
    allocate_repayment,
    transfer_refusal,
)
from clearway.authorization.service import event_builders
from clearway.contracts.catalogue import topic_for_event

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def _row(**changes: object) -> dict[str, object]:
    owed = Owed(
        overdue_minor=20_000,
        billed_minor=100_000,
        fees_minor=1_500,
        transaction_interest_minor=500,
        overdue_interest_minor=300,
    )
    row: dict[str, object] = {
        "id": "crp_1",
        "card_account_id": "cac_1",
        "reference": "transfer:acme-bank:trf-1",
        "amount_minor": 130_000,
        "currency": "USD",
        "status": "pending",
        "reason": None,
        "allocation": asdict(allocate_repayment(130_000, owed)),
        "created_at": NOW,
    }
    return {**row, **changes}


def test_only_another_currency_refuses_a_transfer() -> None:
    assert transfer_refusal("USD", "USD") is None
    assert transfer_refusal("USD", "EUR") == CURRENCY_MISMATCH == "currency_mismatch"
    assert set(asdict(NOTHING_ALLOCATED).values()) == {0} and NOTHING_ALLOCATED.total_minor == 0


def test_applied_carries_the_recorded_split_keyed_by_account() -> None:
    event = event_builders.repayment_applied(_row(), "txn_split", NOW)
    assert topic_for_event(event).message_key(event) == "cac_1"
    assert (event.amount_minor, event.ledger_transaction_id, event.occurred_at) == (130_000, "txn_split", NOW)
    split = event.split
    assert (split.overdue_minor, split.billed_minor, split.fees_minor, split.transaction_interest_minor) == (
        20_000,
        100_000,
        1_500,
        500,
    )
    assert (split.excess_minor, split.overdue_interest_minor) == (8_000, 300)  # overdue cleared: interest rolls on
    parts = split.overdue_minor + split.billed_minor + split.fees_minor + split.transaction_interest_minor
    assert parts + split.excess_minor == event.amount_minor


def test_refused_names_both_currencies_and_the_transfer() -> None:
    row = _row(status="refused", reason=CURRENCY_MISMATCH, currency="EUR", allocation=asdict(NOTHING_ALLOCATED))
    event = event_builders.repayment_refused(row, "USD", transfer_id="trf-1", processor="acme-bank")
    assert topic_for_event(event).name == "card.repayment.refused"
    assert (event.currency, event.account_currency, event.reason, event.transfer_id) == (
        "EUR",
        "USD",
        "currency_mismatch",
        "trf-1",
    )
    assert event.occurred_at == NOW


def test_a_refused_event_needs_a_refused_row() -> None:
    with pytest.raises(AssertionError):
        event_builders.repayment_refused(_row(), "USD", transfer_id=None, processor=None)
