"""Outbox rows announcing each new transaction row (`ledger.transaction.<what happened>`)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from clearway.contracts import cloudevents
from clearway.ledger.domain.posting import Status
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.platform.context import current_causation_id, current_correlation_id
from clearway.platform.ids import new_id
from clearway.platform.outbox import EVENT_ID_PREFIX, build_cloudevent_attributes
from clearway.platform.publishing import require_produced_by

SERVICE_NAME = "ledger"
EVENT_SOURCE = f"clearway.{SERVICE_NAME}"


def topic_for(record: TransactionRecord, *, is_commit: bool) -> str | None:
    if record.status is Status.APPLIED:
        return "ledger.transaction.committed" if is_commit else "ledger.transaction.applied"
    return {
        Status.INFLIGHT: "ledger.transaction.inflight",
        Status.VOID: "ledger.transaction.voided",
        Status.REJECTED: "ledger.transaction.rejected",
    }.get(record.status)


def transaction_payload(record: TransactionRecord, occurred_at: datetime) -> dict[str, Any]:
    return {
        "transaction_id": record.transaction_id,
        "reference": record.reference,
        "parent_transaction": record.parent_transaction,
        "status": record.status.value,
        "amount_minor": record.amount_minor,
        "precise_amount": record.amount_minor,
        "precision": record.precision,
        "currency": record.currency,
        "source": record.source,
        "destination": record.destination,
        "sources": _distributions(record.sources) if record.source is None else None,
        "destinations": _distributions(record.destinations) if record.destination is None else None,
        "meta_data": record.meta_data,
        "rejection_reason": record.rejection_reason,
        "occurred_at": occurred_at.isoformat(),
    }


def outbox_row(topic: str, key: str, payload: dict[str, Any], subject: str, now: datetime) -> tuple[Any, ...]:
    """An outbox row in the platform's shape; its attributes are stored as the CloudEvents codec writes them."""
    assert subject, "a ledger event names what it is about"
    event_id = new_id(EVENT_ID_PREFIX)
    correlation_id = current_correlation_id()
    # A batch's events differ only in id and subject (and the correlation id when it defaults to the
    # event's own): the codec's output for the rest is made once per batch, not once per event.
    strings = dict(_attribute_strings(topic, now, correlation_id, current_causation_id()))
    strings["id"] = event_id
    strings["subject"] = subject
    if not correlation_id:
        strings["correlationid"] = event_id  # a flow's first event starts its own correlation chain
    return (event_id, topic, key, topic, strings, payload, now)


@functools.lru_cache(maxsize=64)
def _attribute_strings(
    topic: str, now: datetime, correlation_id: str | None, causation_id: str | None
) -> dict[str, str]:
    """The stored attributes of an event on `topic` at `now`, with a placeholder id and subject
    (callers copy it). Checks the catalogue: it cannot lie about who publishes what."""
    require_produced_by(SERVICE_NAME, topic)
    attributes = build_cloudevent_attributes(
        event_id=_PLACEHOLDER,
        source=EVENT_SOURCE,
        event_type=topic,
        subject=_PLACEHOLDER,
        time=now,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    return cloudevents.attribute_strings(attributes)


_PLACEHOLDER = "placeholder"


def _distributions(legs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {
            "identifier": leg.get("identifier", leg["balance_id"]),
            "distribution": leg.get("distribution", str(leg["amount_minor"])),
            "balance_id": leg["balance_id"],
            "amount_minor": leg["amount_minor"],
        }
        for leg in legs or []
    ]


def monitor_payload(
    *,
    monitor_id: str,
    balance_id: str,
    currency: str,
    field: str,
    operator: str,
    value_minor: int,
    observed_value_minor: int,
    occurred_at: datetime,
) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "balance_id": balance_id,
        "currency": currency,
        "condition": {"field": field, "operator": "=" if operator == "==" else operator, "value_minor": value_minor},
        "observed_value_minor": observed_value_minor,
        "occurred_at": occurred_at.isoformat(),
    }
