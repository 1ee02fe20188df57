"""CloudEvents 1.0 attributes carried in Kafka headers (binary content mode).

The body of a Kafka record is the event's JSON data; its context attributes travel as headers named
`ce_<attribute>`, values UTF-8 encoded, per the CloudEvents Kafka protocol binding. The binding maps
`datacontenttype` to the plain `content-type` header rather than `ce_datacontenttype`; we write it
there and read either, so producers that follow the `ce_` naming everywhere are still understood.

`correlationid` and `causationid` are Clearway extension attributes: the correlation id names a
whole flow across services, the causation id names the event or request that directly caused this one.
By convention `type` is the topic name (e.g. `transfer.created`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

HEADER_PREFIX = "ce_"
CONTENT_TYPE_HEADER = "content-type"
SPEC_VERSION: Final = "1.0"
DEFAULT_CONTENT_TYPE = "application/json"
# A source for events whose producer omitted `ce_source`: tolerated, but visibly anonymous.
UNKNOWN_SOURCE = "urn:clearway:unknown-source"
# Bounds what one record may carry; a Kafka record with more headers than this is not ours.
HEADERS_COUNT_MAX = 256

HeaderValue = bytes | str | None
HeadersInput = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]


class CloudEventHeaderError(ValueError):
    """The Kafka headers do not describe a usable CloudEvent (missing or malformed attribute)."""


class EventAttributes(BaseModel):
    """CloudEvents 1.0 context attributes of one event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, description="Unique per source; consumers deduplicate on it.")
    source: str = Field(min_length=1, description="URI-reference naming the producer, e.g. /clearway/ledger.")
    type: str = Field(min_length=1, description="The event type; by convention the topic name.")
    specversion: Literal["1.0"] = SPEC_VERSION
    time: AwareDatetime = Field(description="When the occurrence happened (RFC 3339).")
    subject: str | None = Field(default=None, description="The aggregate the event is about.")
    correlationid: str | None = Field(default=None, description="Id shared by every event of one flow.")
    causationid: str | None = Field(default=None, description="Id of the event or request that caused it.")
    datacontenttype: str = DEFAULT_CONTENT_TYPE

    def to_kafka_headers(self) -> list[tuple[str, bytes]]:
        """Headers for a Kafka record in binary mode; attributes that are None are left out."""
        values: dict[str, str | None] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": self.specversion,
            "time": format_time(self.time),
            "subject": self.subject,
            "correlationid": self.correlationid,
            "causationid": self.causationid,
        }
        headers = [(HEADER_PREFIX + name, value.encode("utf-8")) for name, value in values.items() if value]
        headers.append((CONTENT_TYPE_HEADER, self.datacontenttype.encode("utf-8")))
        return headers

    @classmethod
    def from_kafka_headers(cls, headers: HeadersInput, *, received_at: datetime | None = None) -> EventAttributes:
        """Read the attributes from a record's headers.

        `ce_id` and `ce_type` are required (without them a consumer can neither deduplicate nor route).
        Missing optional attributes are tolerated: `ce_specversion` defaults to 1.0, `ce_source` to
        UNKNOWN_SOURCE, `ce_time` to `received_at` (or now). Header names match case-insensitively;
        when a name repeats, the first occurrence wins.
        """
        decoded = _decode_headers(headers)
        missing = [name for name in ("ce_id", "ce_type") if not decoded.get(name)]
        if missing:
            raise CloudEventHeaderError(
                f"Kafka headers lack required CloudEvents attribute(s) {', '.join(missing)}; present: {sorted(decoded)}"
            )
        specversion = decoded.get("ce_specversion") or SPEC_VERSION
        if specversion != SPEC_VERSION:
            raise CloudEventHeaderError(f"unsupported CloudEvents specversion {specversion!r}; expected 1.0")
        raw_time = decoded.get("ce_time")
        time = _parse_time(raw_time) if raw_time else (received_at or datetime.now(UTC))
        content_type = decoded.get(CONTENT_TYPE_HEADER) or decoded.get("ce_datacontenttype")
        try:
            return cls(
                id=decoded["ce_id"],
                source=decoded.get("ce_source") or UNKNOWN_SOURCE,
                type=decoded["ce_type"],
                specversion=SPEC_VERSION,
                time=time,
                subject=decoded.get("ce_subject") or None,
                correlationid=decoded.get("ce_correlationid") or None,
                causationid=decoded.get("ce_causationid") or None,
                datacontenttype=content_type or DEFAULT_CONTENT_TYPE,
            )
        except ValidationError as error:
            raise CloudEventHeaderError(f"invalid CloudEvents attributes: {error}") from error


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, the form most CloudEvents SDKs write."""
    assert moment.tzinfo is not None, "CloudEvents time must be timezone-aware"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(raw_time: str) -> datetime:
    try:
        # Python 3.11's fromisoformat accepts RFC 3339 including the `Z` suffix.
        moment = datetime.fromisoformat(raw_time)
    except ValueError as error:
        raise CloudEventHeaderError(f"ce_time is not an RFC 3339 timestamp: {raw_time!r}") from error
    if moment.tzinfo is None:
        raise CloudEventHeaderError(f"ce_time lacks a UTC offset: {raw_time!r}")
    return moment


def _decode_headers(headers: HeadersInput) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    decoded: dict[str, str] = {}
    for index, (name, value) in enumerate(pairs):
        if index >= HEADERS_COUNT_MAX:
            raise CloudEventHeaderError(f"more than {HEADERS_COUNT_MAX} Kafka headers on one record")
        key = name.lower()
        if key in decoded or value is None:
            continue
        if isinstance(value, bytes):
            try:
                decoded[key] = value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise CloudEventHeaderError(f"header {name!r} is not valid UTF-8") from error
        else:
            decoded[key] = value
    return decoded
