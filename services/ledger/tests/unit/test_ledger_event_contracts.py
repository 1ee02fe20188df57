"""The ledger's outbox payloads must validate against the published contracts."""

from __future__ import annotations

from datetime import UTC, datetime

from clearway.contracts.events.ledger import (
    LedgerBalanceMonitorTriggered,
    LedgerTransactionApplied,
    LedgerTransactionRejected,
)
from clearway.ledger.domain.posting import Status
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.events import monitor_payload, transaction_payload

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def record(**overrides: object) -> TransactionRecord:
    fields: dict[str, object] = {
        "transaction_id": "txn_1",
        "reference": "ref-1",
        "status": Status.APPLIED,
        "currency": "USD",
        "amount_minor": 2500,
        "precision": 100,
        "request_hash": "h",
        "created_at": NOW,
        "effective_date": NOW,
        "source": "bln_a",
        "destination": "@World-USD",
        "sources": [{"identifier": "bln_a", "balance_id": "bln_a", "amount_minor": 2500}],
        "destinations": [{"identifier": "@World-USD", "balance_id": "bln_w", "amount_minor": 2500}],
    }
    fields.update(overrides)
    return TransactionRecord(**fields)  # type: ignore[arg-type]


def test_applied_payload_matches_contract() -> None:
    event = LedgerTransactionApplied.model_validate(transaction_payload(record(), NOW))
    assert event.amount_minor == 2500 and event.source == "bln_a" and event.sources is None


def test_split_payload_lists_distributions() -> None:
    split = record(
        destination=None,
        destinations=[
            {"identifier": "bln_b", "distribution": "20", "balance_id": "bln_b", "amount_minor": 2000},
            {"identifier": "bln_c", "distribution": "left", "balance_id": "bln_c", "amount_minor": 500},
        ],
    )
    event = LedgerTransactionApplied.model_validate(transaction_payload(split, NOW))
    assert event.destinations is not None and [d.identifier for d in event.destinations] == ["bln_b", "bln_c"]


def test_rejected_payload_carries_reason() -> None:
    rejected = record(status=Status.REJECTED, rejection_reason="insufficient funds")
    event = LedgerTransactionRejected.model_validate(transaction_payload(rejected, NOW))
    assert event.rejection_reason == "insufficient funds"


def test_monitor_payload_matches_contract() -> None:
    payload = monitor_payload(
        monitor_id="mon_1",
        balance_id="bln_a",
        currency="USD",
        field="balance",
        operator="==",
        value_minor=0,
        observed_value_minor=0,
        occurred_at=NOW,
    )
    event = LedgerBalanceMonitorTriggered.model_validate(payload)
    assert event.condition.operator == "="
