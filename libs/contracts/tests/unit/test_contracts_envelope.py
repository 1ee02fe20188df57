from datetime import UTC, datetime, timedelta, timezone

import pytest

from clearway.contracts.envelope import CloudEventHeaderError, EventAttributes

OCCURRED_AT = datetime(2024, 5, 2, 14, 3, 0, 123456, tzinfo=UTC)


def full_attributes() -> EventAttributes:
    return EventAttributes(
        id="evt_01j0",
        source="/clearway/funding",
        type="payable.created",
        time=OCCURRED_AT,
        subject="pay_01j0",
        correlationid="cor_1",
        causationid="evt_00",
    )


def test_headers_round_trip_every_attribute() -> None:
    attributes = full_attributes()
    headers = attributes.to_kafka_headers()
    assert all(isinstance(value, bytes) for _, value in headers)
    assert EventAttributes.from_kafka_headers(headers) == attributes


def test_headers_use_ce_prefix_and_content_type() -> None:
    headers = dict(full_attributes().to_kafka_headers())
    assert headers["ce_id"] == b"evt_01j0"
    assert headers["ce_type"] == b"payable.created"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_time"] == b"2024-05-02T14:03:00.123456Z"
    assert headers["content-type"] == b"application/json"


def test_absent_optional_attributes_are_not_written_and_read_back_as_none() -> None:
    attributes = EventAttributes(id="evt_1", source="/p", type="transfer.created", time=OCCURRED_AT)
    headers = attributes.to_kafka_headers()
    assert {name for name, _ in headers} == {
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "content-type",
    }
    parsed = EventAttributes.from_kafka_headers(headers)
    assert parsed.subject is None and parsed.correlationid is None and parsed.causationid is None


def test_time_keeps_the_instant_across_offsets() -> None:
    local = OCCURRED_AT.astimezone(timezone(timedelta(hours=3)))
    attributes = EventAttributes(id="e", source="/s", type="t", time=local)
    assert EventAttributes.from_kafka_headers(attributes.to_kafka_headers()).time == OCCURRED_AT


def test_processor_headers_with_only_the_required_minimum_parse() -> None:
    received_at = datetime(2024, 1, 1, tzinfo=UTC)
    parsed = EventAttributes.from_kafka_headers(
        [("ce_id", b"trf-1"), ("ce_type", b"transfer.created")], received_at=received_at
    )
    assert parsed.specversion == "1.0"
    assert parsed.time == received_at
    assert parsed.source == "urn:clearway:unknown-source"
    assert parsed.datacontenttype == "application/json"


def test_string_header_mapping_and_ce_datacontenttype_are_accepted() -> None:
    parsed = EventAttributes.from_kafka_headers(
        {
            "CE_ID": "x-1",
            "ce_type": "card.clearing.received",
            "ce_source": "acme",
            "ce_time": "2024-05-02T14:03:00+02:00",
            "ce_datacontenttype": "application/cloudevents+json",
        }
    )
    assert parsed.id == "x-1"
    assert parsed.time == datetime(2024, 5, 2, 12, 3, tzinfo=UTC)
    assert parsed.datacontenttype == "application/cloudevents+json"


@pytest.mark.parametrize("missing", ["ce_id", "ce_type"])
def test_missing_id_or_type_is_a_clear_error(missing: str) -> None:
    headers = [(name, value) for name, value in full_attributes().to_kafka_headers() if name != missing]
    with pytest.raises(CloudEventHeaderError, match=missing):
        EventAttributes.from_kafka_headers(headers)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_time", b"yesterday", "RFC 3339"),
        ("ce_time", b"2024-05-02T14:03:00", "offset"),
        ("ce_subject", b"\xff\xfe", "UTF-8"),
    ],
)
def test_malformed_attributes_are_refused(name: str, value: bytes, message: str) -> None:
    headers = [(name, value), *full_attributes().to_kafka_headers()]
    with pytest.raises(CloudEventHeaderError, match=message):
        EventAttributes.from_kafka_headers(headers)


def test_naive_time_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        EventAttributes(id="e", source="/s", type="t", time=datetime(2024, 1, 1))
