"""What a handler receives: one Kafka record read as an `IncomingEvent`.

Reading is tolerant of everything but the body: headers go through the CloudEvents codec's lenient
reader (`read_attribute_strings`), a missing or malformed `time` becomes None, a missing `ce_id`
a deterministic id. Only a value that is not a JSON object makes a record unreadable
(`UndecodableMessageError`), since no retry can help it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from clearway.contracts.cloudevents import CloudEventHeaderError, parse_time, read_attribute_strings


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    id: str
    type: str
    source: str
    subject: str | None
    time: datetime | None
    correlation_id: str
    causation_id: str | None
    key: str | None
    topic: str
    partition: int
    offset: int
    payload: dict[str, Any]
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def inbox_id(self) -> str:
        """The id an inbox records: CloudEvents ids are unique per source only (two processors may
        both send `ce_id: 1`), so the source is part of it."""
        return f"{self.source}#{self.id}" if self.source else self.id


Handler = Callable[[IncomingEvent], Awaitable[None]]
# Handles every record of one poll at once (one database transaction for many messages). It must be
# idempotent per event: when it fails, the same events are replayed one by one through the usual
# retry and dead-letter path, so one poison message cannot hold back the others.
BatchHandler = Callable[[Sequence[IncomingEvent]], Awaitable[None]]


class UndecodableMessageError(ValueError):
    """The record's value is not a JSON object: retrying cannot help."""


def deterministic_event_id(topic: str, partition: int, offset: int) -> str:
    """An id for a record without `ce_id`: stable across redeliveries, so the inbox still works."""
    return f"{topic}-{partition}-{offset}"


def parse_event(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]],
) -> IncomingEvent:
    attributes = read_attribute_strings(headers)
    try:
        payload = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError as error:
        raise UndecodableMessageError(f"value is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise UndecodableMessageError(f"value is not a JSON object: {type(payload).__name__}")
    event_id = attributes.get("id") or deterministic_event_id(topic, partition, offset)
    return IncomingEvent(
        id=event_id,
        type=attributes.get("type") or topic,
        source=attributes.get("source", ""),
        subject=attributes.get("subject"),
        time=_time_or_none(attributes.get("time")),
        correlation_id=attributes.get("correlationid") or event_id,
        causation_id=attributes.get("causationid"),
        key=key.decode("utf-8", errors="replace") if key is not None else None,
        topic=topic,
        partition=partition,
        offset=offset,
        payload=payload,
        attributes=attributes,
    )


def parse_record(record: ConsumerRecord[bytes, bytes]) -> IncomingEvent:
    return parse_event(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=list(record.headers),
    )


def _time_or_none(text: str | None) -> datetime | None:
    """The codec's reading of `time` (RFC 3339 with an offset, in UTC), or None when absent or bad:
    an outside producer's malformed time must not make an otherwise good event unreadable."""
    if text is None:
        return None
    try:
        return parse_time(text)
    except CloudEventHeaderError:
        return None
