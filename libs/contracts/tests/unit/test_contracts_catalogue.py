import pytest
from pydantic import BaseModel

from clearway.contracts import events as ev
from clearway.contracts.catalogue import (
    CATALOGUE,
    EXTERNAL_PROCESSOR,
    SERVICES,
    UnknownTopicError,
    all_topic_names,
    consumed_by,
    dlq_topic,
    produced_by,
    topic,
    topic_for_event,
    topics_for_service,
)

REQUIRED_TOPICS = {
    "payable.created",
    "payable.approved",
    "payable.unapproved",
    "payable.cancelled",
    "payable.paid",
    "funding.created",
    "funding.deposit_linked",
    "funding.invoice_sent",
    "transfer.created",
    "card.authorization.requested",
    "card.authorization.decided",
    "card.authorization.expired",
    "card.authorization.reversed",
    "card.clearing.received",
    "card.clearing.posted",
    "card.repayment.applied",
    "card.repayment.refused",
    "ledger.transaction.applied",
    "ledger.transaction.inflight",
    "ledger.transaction.committed",
    "ledger.transaction.voided",
    "ledger.transaction.rejected",
    "ledger.entry.posted",
    "ledger.clearing.cleared",
    "ledger.balance.monitor_triggered",
    "ledger.transaction.requested",
    "ledger.entry.requested",
}
HIGH_VOLUME = {
    "ledger.transaction.requested",
    "ledger.transaction.applied",
    "ledger.transaction.inflight",
    "ledger.transaction.committed",
    "ledger.transaction.voided",
    "ledger.transaction.rejected",
    "transfer.created",
    "card.authorization.requested",
    "card.authorization.decided",
    "card.authorization.expired",
    "card.authorization.reversed",
    "card.clearing.received",
    "card.clearing.posted",
}


def test_every_required_topic_is_catalogued_once() -> None:
    names = [spec.name for spec in CATALOGUE]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED_TOPICS


def test_each_topic_has_its_own_schema_class() -> None:
    schemas = [spec.schema for spec in CATALOGUE]
    assert len(schemas) == len(set(schemas))


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda spec: spec.name)
def test_topic_spec_integrity(spec: object) -> None:
    from clearway.contracts.catalogue import TopicSpec

    assert isinstance(spec, TopicSpec)
    assert spec.partitions > 0
    assert spec.partitions == (12 if spec.name in HIGH_VOLUME else 6)
    assert issubclass(spec.schema, BaseModel)
    key_field = spec.schema.model_fields[spec.key]
    assert key_field.is_required() and key_field.annotation is str
    assert spec.producer in (*SERVICES, EXTERNAL_PROCESSOR)
    assert set(spec.also_produced_by) <= set(SERVICES)
    assert set(spec.consumers) <= set(SERVICES)
    assert spec.description
    assert spec.event_type == spec.name
    if spec.kind == "command":
        assert len(spec.consumers) == 1 and spec.name.startswith(f"{spec.consumers[0]}.")
    else:
        assert not spec.also_produced_by


def test_processor_topics_and_their_consumers() -> None:
    assert topic("transfer.created").producer == EXTERNAL_PROCESSOR
    # Funding links deposits, reconciliation reconciles, authorization takes card repayments.
    assert set(topic("transfer.created").consumers) == {"funding", "reconciliation", "authorization"}
    for name in ("card.authorization.requested", "card.authorization.reversed", "card.clearing.received"):
        assert topic(name).producer == EXTERNAL_PROCESSOR and "authorization" in topic(name).consumers
    assert topic("transfer.created").key == "transfer_id"
    assert topic("card.clearing.received").key == "card_id"


def test_commands_are_consumed_by_the_ledger() -> None:
    assert topic("ledger.transaction.requested").kind == "command"
    assert topic("ledger.entry.requested").kind == "command"
    assert {spec.name for spec in consumed_by("ledger")} == {"ledger.transaction.requested", "ledger.entry.requested"}


def test_unknown_topic_and_service() -> None:
    with pytest.raises(UnknownTopicError):
        topic("payable.vanished")
    with pytest.raises(ValueError):
        topics_for_service("billing")


def test_dlq_names() -> None:
    assert dlq_topic("transfer.created") == "transfer.created.dlq"
    assert topic("transfer.created").dlq == "transfer.created.dlq"
    with_dlq = all_topic_names()
    without_dlq = all_topic_names(include_dlq=False)
    assert len(with_dlq) == 2 * len(without_dlq) == 2 * len(CATALOGUE)
    assert {dlq_topic(name) for name in without_dlq} <= set(with_dlq)


def test_topics_for_service_is_produced_plus_consumed() -> None:
    for service in SERVICES:
        expected = {spec.name for spec in produced_by(service)} | {spec.name for spec in consumed_by(service)}
        assert {spec.name for spec in topics_for_service(service)} == expected
        assert expected, f"{service} uses no topic"
    assert "transfer.created" in {spec.name for spec in topics_for_service("funding")}
    assert "ledger.transaction.requested" in {spec.name for spec in produced_by("authorization")}
    assert "payout.succeeded" in {spec.name for spec in produced_by("payout")}


def test_message_key_and_topic_lookup_by_event() -> None:
    event = ev.CardAuthorizationReversed.model_validate(
        {"authorization_id": "a", "card_id": "card_9", "reversed_at": "2024-05-02T10:00:00Z"}
    )
    spec = topic_for_event(event)
    assert spec.name == "card.authorization.reversed"
    assert spec.message_key(event) == "card_9"
    with pytest.raises(UnknownTopicError):
        topic_for_event(ev.Counterparty())
