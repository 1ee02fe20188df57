"""A dead letter as the platform records it: where the record was, why it failed, and a masked preview."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clearway.contracts.cloudevents import HEADER_PREFIX as CLOUDEVENTS_HEADER_PREFIX
from clearway.platform.dead_letters.preview import (
    TEXT_CHARS_MAX,
    bounded,
    payload_preview,
    redact_text,
)
from clearway.platform.logging import REDACTED, SENSITIVE_FIELD

# The runner's own `ce_dlq*` attributes are columns already; only the producer's headers are kept.
DEAD_LETTER_HEADER_PREFIX = "ce_dlq"
HEADERS_MAX = 32
HEADER_VALUE_CHARS_MAX = 200
KEY_CHARS_MAX = 200


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    group_id: str
    topic: str
    partition: int
    offset: int
    reason: str
    attempts: int
    message_key: str | None
    event_id: str | None
    event_type: str | None
    payload_preview: str | None
    payload_bytes: int
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.group_id and self.topic, "a dead letter names its group and topic"
        assert self.partition >= 0 and self.offset >= 0 and self.attempts >= 0
        assert len(self.headers) <= HEADERS_MAX


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", errors="replace")


def cloudevents_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The record's `ce_*` headers (not the runner's `ce_dlq*`), masked and bounded."""
    kept: dict[str, str] = {}
    for name, value in headers:
        if not name.startswith(CLOUDEVENTS_HEADER_PREFIX) or name.startswith(DEAD_LETTER_HEADER_PREFIX):
            continue
        if len(kept) == HEADERS_MAX:
            break
        safe_name = bounded(redact_text(name), HEADER_VALUE_CHARS_MAX)
        kept[safe_name] = (
            REDACTED if SENSITIVE_FIELD.search(name) else bounded(redact_text(_text(value)), HEADER_VALUE_CHARS_MAX)
        )
    return kept


def dead_letter_entry(
    *,
    group_id: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]],
    reason: str,
    attempts: int,
) -> DeadLetterEntry:
    kept = cloudevents_headers(headers)
    return DeadLetterEntry(
        group_id=group_id,
        topic=topic,
        partition=partition,
        offset=offset,
        reason=bounded(redact_text(reason), TEXT_CHARS_MAX),
        attempts=attempts,
        message_key=None if key is None else bounded(redact_text(_text(key)), KEY_CHARS_MAX),
        event_id=kept.get(f"{CLOUDEVENTS_HEADER_PREFIX}id"),
        event_type=kept.get(f"{CLOUDEVENTS_HEADER_PREFIX}type"),
        payload_preview=payload_preview(value),
        payload_bytes=0 if value is None else len(value),
        headers=kept,
    )
