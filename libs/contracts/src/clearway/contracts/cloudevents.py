"""CloudEvents 1.0 in Kafka binary mode: the one codec every producer, the outbox relay and every consumer use.

The body of a Kafka record is the event's JSON data; its context attributes travel as headers named
`ce_<attribute>`, values UTF-8 encoded, per the CloudEvents Kafka protocol binding. The binding maps
`datacontenttype` to the plain `content-type` header rather than `ce_datacontenttype`; we write it
there and read either, so producers that follow the `ce_` naming everywhere are still understood.

`correlationid` and `causationid` are Clearway extension attributes: the correlation id names a
whole flow across services, the causation id names the event or request that directly caused this one.
By convention `type` is the topic name (e.g. `transfer.created`).

Three forms of the same attributes:
- `EventAttributes`, the validated model code works with;
- attribute strings (`{"id": ..., "time": "2024-05-02T14:03:00Z", ...}`), what the outbox stores;
- Kafka headers (`[("ce_id", b"..."), ..., ("content-type", b"application/json")]`).
`encode`/`decode` convert between the model and headers; `attribute_strings`/`from_attribute_strings`
between the model and the stored form; `read_attribute_strings` reads headers without judging them,
for consumers that must handle whatever an outside producer sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

HEADER_PREFIX: Final = "ce_"
CONTENT_TYPE_HEADER: Final = "content-type"
CONTENT_TYPE_ATTRIBUTE: Final = "datacontenttype"
SPEC_VERSION: Final = "1.0"
DEFAULT_CONTENT_TYPE: Final = "application/json"
# `time` is optional in CloudEvents 1.0; Clearway's published contract requires it.
REQUIRED_ATTRIBUTES: Final = ("id", "source", "type", "specversion", "time")
OPTIONAL_ATTRIBUTES: Final = ("subject", "correlationid", "causationid")

KafkaHeaders = list[tuple[str, bytes]]
HeaderValue = bytes | str | None
HeadersInput = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]


class CloudEventHeaderError(ValueError):
    """The headers (or stored attributes) do not describe a usable CloudEvent."""


class MissingAttributeError(CloudEventHeaderError):
    """A required attribute is absent or empty."""

    def __init__(self, missing: Iterable[str], *, present: Iterable[str]) -> None:
        self.missing = tuple(missing)
        headers = ", ".join(header_name(name) for name in self.missing)
        super().__init__(
            f"CloudEvent lacks required attribute(s) {', '.join(self.missing)} (headers {headers});"
            f" present: {sorted(present)}"
        )


class EventAttributes(BaseModel):
    """CloudEvents 1.0 context attributes of one event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, description="Unique per source; consumers deduplicate on it.")
    source: str = Field(min_length=1, description="URI-reference naming the producer, e.g. /clearway/ledger.")
    type: str = Field(min_length=1, description="The event type; by convention the topic name.")
    specversion: Literal["1.0"] = SPEC_VERSION
    time: AwareDatetime = Field(description="When the occurrence happened (RFC 3339), kept in UTC.")
    subject: str | None = Field(default=None, description="The aggregate the event is about.")
    correlationid: str | None = Field(default=None, description="Id shared by every event of one flow.")
    causationid: str | None = Field(default=None, description="Id of the event or request that caused it.")
    datacontenttype: str = Field(default=DEFAULT_CONTENT_TYPE, min_length=1)

    @field_validator("time")
    @classmethod
    def _time_in_utc(cls, moment: datetime) -> datetime:
        # One offset for every event, so equal instants also print and compare alike.
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise ValueError(f"time {moment.isoformat()} has no UTC equivalent") from error

    @field_validator(*OPTIONAL_ATTRIBUTES, mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        # A Kafka header cannot tell an empty attribute from a missing one, so neither does the model.
        return None if value == "" else value


def header_name(attribute: str) -> str:
    """The Kafka header carrying `attribute`: `ce_<attribute>`, except `content-type` for the content type."""
    return CONTENT_TYPE_HEADER if attribute == CONTENT_TYPE_ATTRIBUTE else HEADER_PREFIX + attribute


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, the form most CloudEvents SDKs write."""
    assert moment.tzinfo is not None, "CloudEvents time must be timezone-aware"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset, as UTC; anything else is a CloudEventHeaderError."""
    try:
        # Python 3.11's fromisoformat reads RFC 3339, `Z` suffix and any number of fraction digits included;
        # RFC 3339 also allows a lowercase `t` and `z`.
        moment = datetime.fromisoformat(text.upper())
    except ValueError as error:
        raise CloudEventHeaderError(f"time is not an RFC 3339 timestamp: {text!r}") from error
    if moment.tzinfo is None:
        raise CloudEventHeaderError(f"time lacks a UTC offset: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise CloudEventHeaderError(f"time has no UTC equivalent: {text!r}") from error


def attribute_strings(attributes: EventAttributes) -> dict[str, str]:
    """The attributes as strings by attribute name (no `ce_` prefix), absent ones left out: the outbox's form."""
    strings = {
        "id": attributes.id,
        "source": attributes.source,
        "type": attributes.type,
        "specversion": attributes.specversion,
        "time": format_time(attributes.time),
    }
    optional = {
        "subject": attributes.subject,
        "correlationid": attributes.correlationid,
        "causationid": attributes.causationid,
    }
    strings.update({name: value for name, value in optional.items() if value is not None})
    strings[CONTENT_TYPE_ATTRIBUTE] = attributes.datacontenttype
    return strings


def from_attribute_strings(strings: Mapping[str, object]) -> EventAttributes:
    """Attributes from their string form (stored, or read from headers); unknown names are ignored.

    None and "" count as absent. A missing required attribute raises MissingAttributeError; a
    malformed one (wrong specversion, a time without offset, a value that is not a string)
    raises CloudEventHeaderError.
    """
    present = {
        name: _text(name, strings[name])
        for name in (*REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES, CONTENT_TYPE_ATTRIBUTE)
        if strings.get(name) not in (None, "")
    }
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in present]
    if missing:
        raise MissingAttributeError(missing, present=strings)
    if present["specversion"] != SPEC_VERSION:
        raise CloudEventHeaderError(
            f"unsupported CloudEvents specversion {present['specversion']!r}; expected {SPEC_VERSION}"
        )
    try:
        return EventAttributes(
            id=present["id"],
            source=present["source"],
            type=present["type"],
            specversion=SPEC_VERSION,
            time=parse_time(present["time"]),
            subject=present.get("subject"),
            correlationid=present.get("correlationid"),
            causationid=present.get("causationid"),
            datacontenttype=present.get(CONTENT_TYPE_ATTRIBUTE, DEFAULT_CONTENT_TYPE),
        )
    except ValidationError as error:
        raise CloudEventHeaderError(f"invalid CloudEvents attributes: {error}") from error


def read_attribute_strings(headers: HeadersInput) -> dict[str, str]:
    """Every CloudEvents attribute in `headers`, by attribute name, without judging any of them.

    Tolerant, because a bad header from an outside producer must never make a good event
    unreadable: headers that are neither `ce_*` nor `content-type` are ignored, None values
    skipped, undecodable bytes replaced (U+FFFD). Names match case-insensitively; when an
    attribute repeats, the first occurrence wins.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    strings: dict[str, str] = {}
    for name, value in pairs:
        attribute = _attribute_name(name)
        if attribute is None or attribute in strings or value is None:
            continue
        strings[attribute] = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
    return strings


def encode(attributes: EventAttributes) -> KafkaHeaders:
    """Binary-mode Kafka headers for `attributes`; absent optional attributes are left out."""
    return [(header_name(name), value.encode("utf-8")) for name, value in attribute_strings(attributes).items()]


# What `attribute_strings` writes, in its order, with each one's header; and the only `time` shape
# `format_time` prints.
_STORED_ORDER: Final = (*REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES, CONTENT_TYPE_ATTRIBUTE)
_STORED_HEADERS: Final = tuple((name, header_name(name)) for name in _STORED_ORDER)
_FORMATTED_TIME: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?Z")


def headers_from_strings(strings: Mapping[str, object]) -> KafkaHeaders:
    """`encode(from_attribute_strings(strings))`, without building the model when `strings` are exactly
    what `attribute_strings` writes (every row an outbox stores today): the outbox relay's hot path, where
    the model's validation and the time's round trip were most of the relay's own work per event.

    Anything else (a row stored in an older shape, a null, another time format) goes through the codec,
    so the headers, and the errors, are the same either way.
    """
    headers = _headers_if_stored_form(strings)
    return headers if headers is not None else encode(from_attribute_strings(strings))


def _headers_if_stored_form(strings: Mapping[str, object]) -> KafkaHeaders | None:
    if strings.get("specversion") != SPEC_VERSION or CONTENT_TYPE_ATTRIBUTE not in strings:
        return None
    headers: KafkaHeaders = []
    for name, header in _STORED_HEADERS:
        value = strings.get(name)
        if value is None:
            if name in REQUIRED_ATTRIBUTES or name in strings:  # a stored null is an older shape
                return None
            continue
        if not isinstance(value, str) or not value:
            return None
        headers.append((header, value.encode("utf-8")))
    if len(headers) != len(strings):
        return None  # a name the stored form never has
    time = strings["time"]
    assert isinstance(time, str)
    if not _FORMATTED_TIME.fullmatch(time):
        return None
    try:
        datetime.fromisoformat(time)  # the pattern admits a 13th month; the codec refuses it
    except ValueError:
        return None
    return headers


def decode(headers: HeadersInput) -> EventAttributes:
    """The attributes in a record's headers; raises CloudEventHeaderError (or its MissingAttributeError)."""
    return from_attribute_strings(read_attribute_strings(headers))


def _attribute_name(header: str) -> str | None:
    lowered = header.lower()
    if lowered == CONTENT_TYPE_HEADER:
        return CONTENT_TYPE_ATTRIBUTE
    attribute = lowered.removeprefix(HEADER_PREFIX)
    return attribute if attribute and attribute != lowered else None


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise CloudEventHeaderError(f"attribute {name!r} is not a string: {value!r}")
    return value
