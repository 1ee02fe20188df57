"""Properties of the CloudEvents codec: any event survives encode -> decode, and no header can break a reader."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import CloudEventHeaderError, EventAttributes

# Any fixed offset a timestamp may carry (strictly inside a day, to the second).
OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)).map(
    lambda offset: timezone(timedelta(seconds=round(offset.total_seconds())))
)
# Far enough from year 1 and 9999 that every offset still has a UTC equivalent.
TIMES = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30), timezones=OFFSETS)
REQUIRED_TEXT = st.text(min_size=1, max_size=30)
# "" is included on purpose: an empty optional attribute means absent, in the model as on the wire.
OPTIONAL_TEXT = st.none() | st.text(max_size=30)
CONTENT_TYPES = st.sampled_from(["application/json", "application/cloudevents+json"]) | REQUIRED_TEXT

ATTRIBUTES = st.builds(
    EventAttributes,
    id=REQUIRED_TEXT,
    source=REQUIRED_TEXT,
    type=REQUIRED_TEXT,
    time=TIMES,
    subject=OPTIONAL_TEXT,
    correlationid=OPTIONAL_TEXT,
    causationid=OPTIONAL_TEXT,
    datacontenttype=CONTENT_TYPES,
)

KNOWN_HEADER_NAMES = [
    cloudevents.header_name(name)
    for name in (*cloudevents.REQUIRED_ATTRIBUTES, *cloudevents.OPTIONAL_ATTRIBUTES, "datacontenttype")
]
# Names a foreign or broken producer might send: ours in any case, near misses, anything at all.
ANY_HEADER_NAME = (
    st.sampled_from(KNOWN_HEADER_NAMES).map(str.upper)
    | st.sampled_from([*KNOWN_HEADER_NAMES, "ce_", "ce", "traceparent", "ce_dlqreason"])
    | st.text(max_size=20)
)
ANY_HEADER_VALUE = st.none() | st.binary(max_size=30) | st.sampled_from([b"\xff\xfe", b"\xc3", b"1.0"])
ANY_HEADERS = st.lists(st.tuples(ANY_HEADER_NAME, ANY_HEADER_VALUE), max_size=12)


def is_foreign(name: str) -> bool:
    lowered = name.lower()
    return not lowered.startswith(cloudevents.HEADER_PREFIX) and lowered != cloudevents.CONTENT_TYPE_HEADER


FOREIGN_HEADERS = st.lists(st.tuples(st.text(max_size=20).filter(is_foreign), ANY_HEADER_VALUE), max_size=6)


@given(ATTRIBUTES)
def test_any_event_round_trips_through_kafka_headers(attributes: EventAttributes) -> None:
    headers = cloudevents.encode(attributes)
    decoded = cloudevents.decode(headers)
    assert decoded == attributes
    assert decoded.time.utcoffset() == timedelta(0) and decoded.time == attributes.time
    assert all(isinstance(value, bytes) for _, value in headers)
    assert {name for name, _ in headers} <= set(KNOWN_HEADER_NAMES)


@given(ATTRIBUTES)
def test_the_time_header_is_rfc3339_in_utc(attributes: EventAttributes) -> None:
    written = dict(cloudevents.encode(attributes))["ce_time"].decode()
    assert written.endswith("Z") and "+" not in written
    assert cloudevents.parse_time(written) == attributes.time


@given(TIMES)
def test_any_aware_time_keeps_its_instant_to_the_microsecond(moment: datetime) -> None:
    parsed = cloudevents.parse_time(cloudevents.format_time(moment))
    assert parsed == moment and parsed.tzinfo is UTC


@given(ATTRIBUTES)
def test_the_stored_form_round_trips_through_json(attributes: EventAttributes) -> None:
    # The outbox keeps attribute strings in a JSONB column; the relay reads them back.
    stored = json.loads(json.dumps(cloudevents.attribute_strings(attributes)))
    assert cloudevents.from_attribute_strings(stored) == attributes


@given(ATTRIBUTES)
def test_the_tolerant_reader_sees_exactly_the_stored_form(attributes: EventAttributes) -> None:
    read = cloudevents.read_attribute_strings(cloudevents.encode(attributes))
    assert read == cloudevents.attribute_strings(attributes)


@given(ATTRIBUTES, ANY_HEADERS, FOREIGN_HEADERS)
def test_junk_around_a_good_event_never_makes_it_unreadable(
    attributes: EventAttributes,
    junk_after: list[tuple[str, bytes | None]],
    foreign_before: list[tuple[str, bytes | None]],
) -> None:
    assert cloudevents.decode([*foreign_before, *cloudevents.encode(attributes)]) == attributes
    # A later repeat never overrides what the producer said first; it may only add an attribute it left out.
    decoded = cloudevents.decode([*foreign_before, *cloudevents.encode(attributes), *junk_after])
    assert cloudevents.attribute_strings(decoded).items() >= cloudevents.attribute_strings(attributes).items()


@given(ANY_HEADERS)
def test_any_headers_are_read_without_raising(headers: list[tuple[str, bytes | None]]) -> None:
    read = cloudevents.read_attribute_strings(headers)
    assert all(isinstance(value, str) for value in read.values())


@given(ANY_HEADERS)
def test_decoding_any_headers_gives_attributes_or_a_typed_error(headers: list[tuple[str, bytes | None]]) -> None:
    try:
        decoded = cloudevents.decode(headers)
    except CloudEventHeaderError:
        return
    assert decoded.specversion == "1.0" and decoded.time.tzinfo is UTC


# Stored attribute strings as a row might hold them: today's form, an older one, or anything at all.
STORED_VALUE = (
    st.none()
    | st.text(max_size=30)
    | st.sampled_from(["1.0", "1.1", "2026-11-21T09:30:15.25Z", "2026-13-21T09:30:15.250000Z", "application/json"])
    | st.integers()
)
STORED_NAME = st.sampled_from([*cloudevents.REQUIRED_ATTRIBUTES, *cloudevents.OPTIONAL_ATTRIBUTES, "datacontenttype"])
ANY_STORED = st.dictionaries(STORED_NAME | st.text(max_size=12), STORED_VALUE, max_size=10)


@given(ATTRIBUTES)
def test_stored_strings_become_the_codecs_headers(attributes: EventAttributes) -> None:
    stored = json.loads(json.dumps(cloudevents.attribute_strings(attributes)))
    assert cloudevents.headers_from_strings(stored) == cloudevents.encode(attributes)


@given(ATTRIBUTES, st.data())
def test_any_stored_shape_gives_what_the_codec_gives(attributes: EventAttributes, data: st.DataObject) -> None:
    """The relay's fast path and the codec agree on every input, headers or error alike."""
    stored: dict[str, object] = dict(cloudevents.attribute_strings(attributes))
    stored.update(data.draw(ANY_STORED))
    try:
        expected = cloudevents.encode(cloudevents.from_attribute_strings(stored))
    except CloudEventHeaderError as error:
        try:
            cloudevents.headers_from_strings(stored)
        except CloudEventHeaderError as same:
            assert type(same) is type(error)
            return
        raise AssertionError(f"the fast path accepted what the codec refuses: {stored!r}") from error
    assert cloudevents.headers_from_strings(stored) == expected


def test_a_stored_time_that_only_looks_formatted_is_refused_like_the_codec_refuses_it() -> None:
    stored = {**cloudevents.attribute_strings(EventAttributes(id="e", source="s", type="t", time=datetime.now(UTC)))}
    stored["time"] = "2026-13-21T09:30:15.250000Z"
    with pytest.raises(CloudEventHeaderError):
        cloudevents.from_attribute_strings(stored)
    with pytest.raises(CloudEventHeaderError):
        cloudevents.headers_from_strings(stored)
