from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.platform.consumer import UndecodableMessageError, deterministic_event_id, parse_event
from clearway.platform.kafka import decode_headers, dlq_topic, encode_key
from clearway.platform.outbox import build_cloudevent_attributes

EVENT_TIME = datetime(2025, 3, 1, 12, 30, 0, 123456, tzinfo=UTC)


def attributes(**overrides: object) -> EventAttributes:
    options: dict[str, object] = {
        "event_id": "evt_1",
        "source": "clearway.funding",
        "event_type": "payable.created",
        "subject": "pay_1",
        "time": EVENT_TIME,
        "correlation_id": "req_9",
        "causation_id": "evt_0",
    }
    options.update(overrides)
    return build_cloudevent_attributes(**options)  # type: ignore[arg-type]


def test_attributes_carry_cloudevents_core_and_extensions() -> None:
    assert cloudevents.attribute_strings(attributes()) == {
        "id": "evt_1",
        "source": "clearway.funding",
        "type": "payable.created",
        "specversion": "1.0",
        "time": "2025-03-01T12:30:00.123456Z",
        "subject": "pay_1",
        "correlationid": "req_9",
        "causationid": "evt_0",
        "datacontenttype": "application/json",
    }


def test_first_event_of_a_flow_correlates_to_itself_and_has_no_cause() -> None:
    built = attributes(correlation_id=None, causation_id=None, subject=None)
    assert built.correlationid == "evt_1"
    assert built.causationid is None and built.subject is None


def test_time_is_rendered_in_utc() -> None:
    nairobi = timezone(timedelta(hours=3))
    built = attributes(time=datetime(2025, 3, 1, 15, 0, tzinfo=nairobi))
    assert cloudevents.attribute_strings(built)["time"] == "2025-03-01T12:00:00Z"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        attributes(time=datetime(2025, 3, 1))


def test_headers_are_binary_mode_cloudevents() -> None:
    headers = dict(cloudevents.encode(attributes()))
    assert headers["ce_id"] == b"evt_1"
    assert headers["ce_type"] == b"payable.created"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_correlationid"] == b"req_9"
    assert headers["content-type"] == b"application/json"


def test_the_tolerant_decoder_reads_attributes_and_ignores_foreign_headers() -> None:
    headers = [*cloudevents.encode(attributes()), ("traceparent", b"00-abc"), ("ce_empty", None)]
    assert decode_headers(headers) == cloudevents.attribute_strings(attributes())


def test_undecodable_header_bytes_are_replaced_not_refused() -> None:
    assert decode_headers([("ce_subject", b"\xffpay")]) == {"subject": "\ufffdpay"}


def test_key_encoding() -> None:
    assert encode_key("pay_1") == b"pay_1"
    assert encode_key(None) is None


def test_dead_letter_topic_name() -> None:
    assert dlq_topic("payable.created") == "payable.created.dlq"
    with pytest.raises(AssertionError):
        dlq_topic("payable.created.dlq")


def test_parse_event_reads_attributes_key_and_body() -> None:
    event = parse_event(
        topic="payable.created",
        partition=2,
        offset=41,
        key=b"pay_1",
        value=b'{"payable_id": "pay_1"}',
        headers=cloudevents.encode(attributes()),
    )
    assert (event.id, event.type, event.source, event.subject) == (
        "evt_1",
        "payable.created",
        "clearway.funding",
        "pay_1",
    )
    assert event.time == EVENT_TIME
    assert (event.correlation_id, event.causation_id) == ("req_9", "evt_0")
    assert (event.key, event.topic, event.partition, event.offset) == ("pay_1", "payable.created", 2, 41)
    assert event.payload == {"payable_id": "pay_1"}


def test_event_without_attributes_gets_a_deterministic_id() -> None:
    event = parse_event(topic="transfer.created", partition=0, offset=7, key=None, value=b"{}", headers=[])
    assert event.id == deterministic_event_id("transfer.created", 0, 7) == "transfer.created-0-7"
    assert event.type == "transfer.created"
    assert event.correlation_id == event.id
    assert event.causation_id is None and event.time is None and event.key is None


@pytest.mark.parametrize("time", [b"yesterday", b"2025-03-01T12:30:00", b"\xff\xfe", b"9999-12-31T23:59:59-23:59", b""])
def test_a_malformed_or_offsetless_time_is_dropped_and_the_event_still_read(time: bytes) -> None:
    event = parse_event(topic="t", partition=0, offset=0, key=None, value=b"{}", headers=[("ce_time", time)])
    assert event.time is None and event.payload == {}


@pytest.mark.parametrize("time", [b"2025-03-01T15:30:00.123456+03:00", b"2025-03-01t12:30:00.123456z"])
def test_a_time_with_an_offset_is_read_in_utc(time: bytes) -> None:
    event = parse_event(topic="t", partition=0, offset=0, key=None, value=b"{}", headers=[("ce_time", time)])
    assert event.time == EVENT_TIME and event.time.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b'"text"', None])
def test_body_that_is_not_a_json_object_is_undecodable(value: bytes | None) -> None:
    with pytest.raises(UndecodableMessageError):
        parse_event(topic="t", partition=0, offset=0, key=None, value=value, headers=[])
