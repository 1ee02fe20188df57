"""The CloudEvents codec by example: the exact bytes of the published contract and each refusal."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from clearway.contracts import cloudevents
from clearway.contracts.asyncapi import cloudevents_headers_schema
from clearway.contracts.cloudevents import CloudEventHeaderError, EventAttributes, MissingAttributeError

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


def minimal_headers() -> list[tuple[str, bytes | None]]:
    return [
        ("ce_id", b"trf-1"),
        ("ce_source", b"acme-processor"),
        ("ce_type", b"transfer.created"),
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2024-05-02T14:03:00Z"),
    ]


def test_headers_are_exactly_the_published_contract() -> None:
    # Spelled out byte for byte: outside processors depend on these names and this time format.
    assert cloudevents.encode(full_attributes()) == [
        ("ce_id", b"evt_01j0"),
        ("ce_source", b"/clearway/funding"),
        ("ce_type", b"payable.created"),
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2024-05-02T14:03:00.123456Z"),
        ("ce_subject", b"pay_01j0"),
        ("ce_correlationid", b"cor_1"),
        ("ce_causationid", b"evt_00"),
        ("content-type", b"application/json"),
    ]


def test_headers_round_trip_every_attribute() -> None:
    attributes = full_attributes()
    assert cloudevents.decode(cloudevents.encode(attributes)) == attributes


def test_absent_optional_attributes_are_not_written_and_read_back_as_none() -> None:
    attributes = EventAttributes(id="evt_1", source="/p", type="transfer.created", time=OCCURRED_AT, subject="")
    headers = cloudevents.encode(attributes)
    assert [name for name, _ in headers] == [
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "content-type",
    ]
    parsed = cloudevents.decode(headers)
    assert parsed.subject is None and parsed.correlationid is None and parsed.causationid is None


def test_time_is_kept_and_written_in_utc() -> None:
    nairobi = OCCURRED_AT.astimezone(timezone(timedelta(hours=3)))
    attributes = EventAttributes(id="e", source="/s", type="t", time=nairobi)
    assert attributes.time.utcoffset() == timedelta(0)
    assert dict(cloudevents.encode(attributes))["ce_time"] == b"2024-05-02T14:03:00.123456Z"
    assert cloudevents.format_time(datetime(2024, 5, 2, 17, 3, tzinfo=timezone(timedelta(hours=3)))) == (
        "2024-05-02T14:03:00Z"
    )


def test_processor_headers_with_only_the_required_attributes_decode() -> None:
    parsed = cloudevents.decode(minimal_headers())
    assert (parsed.id, parsed.source, parsed.type) == ("trf-1", "acme-processor", "transfer.created")
    assert parsed.time == datetime(2024, 5, 2, 14, 3, tzinfo=UTC)
    assert parsed.datacontenttype == "application/json"


def test_string_header_mapping_any_case_and_ce_datacontenttype_are_accepted() -> None:
    parsed = cloudevents.decode(
        {
            "CE_ID": "x-1",
            "Ce_Source": "acme",
            "ce_type": "card.clearing.received",
            "ce_specversion": "1.0",
            "ce_time": "2024-05-02t14:03:00.5+02:00",
            "ce_datacontenttype": "application/cloudevents+json",
        }
    )
    assert (parsed.id, parsed.source) == ("x-1", "acme")
    assert parsed.time == datetime(2024, 5, 2, 12, 3, 0, 500000, tzinfo=UTC)
    assert parsed.datacontenttype == "application/cloudevents+json"


def test_the_first_of_repeated_headers_wins_and_foreign_headers_are_ignored() -> None:
    headers = [*minimal_headers(), ("ce_id", b"impostor"), ("traceparent", b"00-abc"), ("ce_subject", None)]
    parsed = cloudevents.decode(headers)
    assert parsed.id == "trf-1" and parsed.subject is None


def test_undecodable_bytes_are_replaced_not_refused() -> None:
    parsed = cloudevents.decode([*minimal_headers(), ("ce_subject", b"\xffpay")])
    assert parsed.subject == "\ufffdpay"


@pytest.mark.parametrize("missing", cloudevents.REQUIRED_ATTRIBUTES)
def test_each_missing_required_attribute_is_a_typed_error(missing: str) -> None:
    headers = [(name, value) for name, value in minimal_headers() if name != f"ce_{missing}"]
    with pytest.raises(MissingAttributeError, match=f"ce_{missing}") as raised:
        cloudevents.decode(headers)
    assert raised.value.missing == (missing,)


def test_an_empty_required_attribute_counts_as_missing() -> None:
    with pytest.raises(MissingAttributeError) as raised:
        cloudevents.decode([("ce_id", b""), *minimal_headers()])
    assert raised.value.missing == ("id",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_time", b"yesterday", "RFC 3339"),
        ("ce_time", b"2024-05-02T14:03:00", "offset"),
        ("ce_time", b"0001-01-01T00:00:00+05:00", "UTC equivalent"),
    ],
)
def test_malformed_attributes_are_refused(name: str, value: bytes, message: str) -> None:
    headers = [(name, value), *minimal_headers()]
    with pytest.raises(CloudEventHeaderError, match=message):
        cloudevents.decode(headers)


def test_stored_attributes_in_the_older_ledger_shape_are_read() -> None:
    # What the ledger wrote into its outbox before the codec: an offset, a null extension,
    # the content type under its attribute name. `replay` can send such rows again.
    stored = {
        "id": "evt_1",
        "source": "clearway.ledger",
        "type": "ledger.transaction.applied",
        "specversion": "1.0",
        "time": "2024-05-02T14:03:00.123456+00:00",
        "subject": "txn_1",
        "correlationid": "evt_1",
        "causationid": None,
        "datacontenttype": "application/json",
    }
    attributes = cloudevents.from_attribute_strings(stored)
    assert attributes.time == OCCURRED_AT and attributes.causationid is None
    assert cloudevents.attribute_strings(attributes)["time"] == "2024-05-02T14:03:00.123456Z"


def test_a_stored_attribute_that_is_not_a_string_is_refused() -> None:
    stored = {**cloudevents.attribute_strings(full_attributes()), "subject": 42}
    with pytest.raises(CloudEventHeaderError, match="subject"):
        cloudevents.from_attribute_strings(stored)


def test_naive_time_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError):
        EventAttributes(id="e", source="/s", type="t", time=datetime(2024, 1, 1))


def test_asyncapi_documents_the_headers_the_codec_writes() -> None:
    schema = cloudevents_headers_schema("payable.created")
    every_attribute = (*cloudevents.REQUIRED_ATTRIBUTES, *cloudevents.OPTIONAL_ATTRIBUTES, "datacontenttype")
    assert schema["required"] == [cloudevents.header_name(name) for name in cloudevents.REQUIRED_ATTRIBUTES]
    assert set(schema["properties"]) == {cloudevents.header_name(name) for name in every_attribute}
