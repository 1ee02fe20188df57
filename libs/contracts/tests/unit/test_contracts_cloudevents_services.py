"""Every real path that writes CloudEvents headers goes through the codec, and what it writes decodes.

The paths: `add_event` (funding and the platform) -> outbox row -> relay -> `KafkaPublisher`; the
ledger's own outbox rows through the same relay and publisher; rows stored in the shapes written
before the codec, which `replay` can queue again; the processor helper tests publish with; and the
consumer reading all of them back. No broker or database: the producer and session are fakes that
keep what they are handed.
"""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Insert

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes, KafkaHeaders
from clearway.devstack.testing import publish_as_processor
from clearway.ledger.service.events import EVENT_SOURCE as LEDGER_SOURCE
from clearway.ledger.service.events import outbox_row
from clearway.platform import kafka
from clearway.platform.consumer import parse_event
from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.kafka import KafkaPublisher
from clearway.platform.outbox import OutboxMessage, add_event
from clearway.platform.relay import outbox_message

NOW = datetime(2026, 11, 21, 9, 30, 15, 250000, tzinfo=UTC)


class RecordingBatch:
    """Stands in for aiokafka's BatchBuilder: keeps each appended record's headers."""

    def __init__(self) -> None:
        self.headers: list[KafkaHeaders] = []

    def append(self, *, timestamp: float | None, key: bytes | None, value: bytes, headers: KafkaHeaders) -> object:
        self.headers.append(headers)
        return object()  # aiokafka answers metadata when the record fit, None when the batch is full


class RecordingProducer:
    """Stands in for AIOKafkaProducer: keeps each record's headers and acknowledges it at once."""

    records: list[tuple[str, KafkaHeaders]]

    def __init__(self, **_options: Any) -> None:
        self.records = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, *, value: bytes, key: bytes | None, headers: KafkaHeaders) -> asyncio.Future[None]:
        self.records.append((topic, headers))
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    async def send_and_wait(self, topic: str, value: bytes, *, key: bytes | None, headers: KafkaHeaders) -> None:
        self.records.append((topic, headers))

    # The batch API the outbox publisher uses: one partition, batches that never fill.
    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> RecordingBatch:
        return RecordingBatch()

    async def send_batch(self, batch: RecordingBatch, topic: str, *, partition: int) -> asyncio.Future[None]:
        self.records.extend((topic, headers) for headers in batch.headers)
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged


class RecordingSession:
    """Stands in for AsyncSession: keeps the statements `add_event` executes."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    async def execute(self, statement: Any) -> None:
        self.statements.append(statement)

    def stored_headers(self) -> Any:
        [insert] = [statement for statement in self.statements if isinstance(statement, Insert)]
        return insert.compile(dialect=postgresql.dialect()).params["headers"]


@pytest.fixture
def context_ids() -> Iterator[None]:
    correlation = correlation_id_var.set("req_42")
    causation = causation_id_var.set("evt_cause")
    yield
    causation_id_var.reset(causation)
    correlation_id_var.reset(correlation)


def stored_row(event_id: str, topic: str, headers: Any) -> SimpleNamespace:
    """An outbox row as the relay selects it; the headers pass through JSON as through JSONB."""
    return SimpleNamespace(
        id=1,
        event_id=event_id,
        topic=topic,
        message_key="key_1",
        event_type=topic,
        headers=json.loads(json.dumps(headers)),
        payload='{"n": 1}',  # the relay selects the payload as text
    )


async def published_headers(messages: list[OutboxMessage], monkeypatch: pytest.MonkeyPatch) -> list[KafkaHeaders]:
    producer = RecordingProducer()
    monkeypatch.setattr(kafka, "AIOKafkaProducer", lambda **_options: producer)
    publisher = KafkaPublisher("unused:9092")
    await publisher.start()
    await publisher.send_batch(messages)
    await publisher.stop()
    return [headers for _, headers in producer.records]


@pytest.mark.usefixtures("context_ids")
@pytest.mark.parametrize("subject", ["pay_1", "ünïcödé/💸", None])
async def test_add_event_through_the_relay_and_publisher_decodes(
    subject: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = RecordingSession()
    before = datetime.now(UTC)
    event_id = await add_event(
        session,  # type: ignore[arg-type]
        topic="payable.created",
        key="pay_1",
        event_type="payable.created",
        payload={"payable_id": "pay_1"},
        source="clearway.funding",
        subject=subject,
    )
    row = stored_row(event_id, "payable.created", session.stored_headers())

    [headers] = await published_headers([outbox_message(row)], monkeypatch)  # type: ignore[arg-type]

    decoded = cloudevents.decode(headers)
    assert decoded == EventAttributes(
        id=event_id,
        source="clearway.funding",
        type="payable.created",
        time=decoded.time,
        subject=subject,
        correlationid="req_42",
        causationid="evt_cause",
    )
    assert before <= decoded.time <= datetime.now(UTC)


@pytest.mark.usefixtures("context_ids")
async def test_ledger_outbox_rows_through_the_relay_and_publisher_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    event_id, topic, _, _, headers, _, _ = outbox_row(
        "ledger.transaction.applied", "bln_1", {"transaction_id": "txn_1"}, "txn_1", NOW
    )
    [published] = await published_headers([outbox_message(stored_row(event_id, topic, headers))], monkeypatch)  # type: ignore[arg-type]
    assert cloudevents.decode(published) == EventAttributes(
        id=event_id,
        source=LEDGER_SOURCE,
        type="ledger.transaction.applied",
        time=NOW,
        subject="txn_1",
        correlationid="req_42",
        causationid="evt_cause",
    )


def test_a_ledger_event_without_a_flow_correlates_to_itself() -> None:
    event_id, *_, headers, _, _ = outbox_row("ledger.entry.posted", "ik_1", {}, "ik_1", NOW)
    attributes = cloudevents.from_attribute_strings(headers)
    assert attributes.correlationid == event_id and attributes.causationid is None


@given(
    subject=st.text(min_size=1, max_size=30),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_any_ledger_outbox_row_is_stored_in_the_codec_form(subject: str, now: datetime) -> None:
    event_id, topic, _, _, headers, _, _ = outbox_row("ledger.clearing.cleared", "bln_1", {}, subject, now)
    attributes = cloudevents.from_attribute_strings(json.loads(json.dumps(headers)))
    assert (attributes.id, attributes.type, attributes.subject, attributes.time) == (event_id, topic, subject, now)
    assert headers == cloudevents.attribute_strings(attributes)


# Rows written before the codec, still in outbox tables and re-sent by `replay`.
LEDGER_ROW_BEFORE_THE_CODEC = {
    "id": "evt_old",
    "source": "clearway.ledger",
    "type": "ledger.transaction.voided",
    "specversion": "1.0",
    "time": "2026-11-21T12:30:15.250000+03:00",
    "subject": "txn_old",
    "correlationid": "evt_old",
    "causationid": None,
    "datacontenttype": "application/json",
}
PLATFORM_ROW_BEFORE_THE_CODEC = {
    "id": "evt_old",
    "source": "clearway.funding",
    "type": "funding.created",
    "specversion": "1.0",
    "time": "2026-11-21T09:30:15.25Z",
    "correlationid": "req_1",
}


@pytest.mark.parametrize("stored", [LEDGER_ROW_BEFORE_THE_CODEC, PLATFORM_ROW_BEFORE_THE_CODEC])
async def test_rows_stored_before_the_codec_are_published_in_its_shape(
    stored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    row = stored_row("evt_old", stored["type"], stored)
    [published] = await published_headers([outbox_message(row)], monkeypatch)  # type: ignore[arg-type]
    as_dict = dict(published)
    assert as_dict["ce_time"] == b"2026-11-21T09:30:15.250000Z"
    assert "ce_causationid" not in as_dict and "ce_datacontenttype" not in as_dict
    assert as_dict["content-type"] == b"application/json"
    decoded = cloudevents.decode(published)
    assert (decoded.id, decoded.source, decoded.time) == ("evt_old", stored["source"], NOW)


async def test_the_processor_helper_publishes_what_the_codec_decodes() -> None:
    producer = RecordingProducer()
    before = datetime.now(UTC)
    await publish_as_processor(
        producer,  # type: ignore[arg-type]
        "transfer.created",
        {"transfer_id": "trf_1"},
        key="trf_1",
        event_id="proc-evt-1",
        source="urn:processor:acme",
    )
    [(topic, headers)] = producer.records
    decoded = cloudevents.decode(headers)
    assert (topic, decoded.id, decoded.type, decoded.source) == (
        "transfer.created",
        "proc-evt-1",
        "transfer.created",
        "urn:processor:acme",
    )
    assert before <= decoded.time <= datetime.now(UTC)
    # An outside processor sends the required attributes only.
    assert [name for name, _ in headers] == [
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "content-type",
    ]


@given(
    subject=st.none() | st.text(min_size=1, max_size=30),
    causation=st.none() | st.text(min_size=1, max_size=30),
    offset_hours=st.integers(min_value=-12, max_value=14),
)
def test_the_consumer_reads_what_any_producer_encodes(
    subject: str | None, causation: str | None, offset_hours: int
) -> None:
    attributes = EventAttributes(
        id="evt_1",
        source="clearway.funding",
        type="payable.created",
        time=NOW.astimezone(timezone(timedelta(hours=offset_hours))),
        subject=subject,
        correlationid="req_1",
        causationid=causation,
    )
    event = parse_event(
        topic="payable.created", partition=0, offset=0, key=None, value=b"{}", headers=cloudevents.encode(attributes)
    )
    assert (event.id, event.type, event.source, event.subject) == (
        "evt_1",
        "payable.created",
        "clearway.funding",
        subject,
    )
    assert (event.time, event.correlation_id, event.causation_id) == (NOW, "req_1", causation)
