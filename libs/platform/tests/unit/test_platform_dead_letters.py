"""Dead letters recorded for operators: the masked preview, the entry, and the runner's order
(publish, then record, then commit) with an in-memory log instead of a database."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pytest
import sqlalchemy.exc
from aiokafka import ConsumerRecord

from clearway.platform.consumer import (
    DeadLetterNotRecordedError,
    IncomingEvent,
    InfrastructureUnavailableError,
    RecordProcessor,
)
from clearway.platform.consumer.dead_letter import DeadLetterPublisher
from clearway.platform.dead_letters import DeadLetterEntry, dead_letter_entry
from clearway.platform.dead_letters.preview import PAYLOAD_PREVIEW_CHARS_MAX, payload_preview, redact_text
from clearway.platform.retry import BackoffPolicy

from .test_platform_consumer_policy import RecordedSleeps, record

PHONE = "+254712345678"
IBAN = "DE89370400440532013000"
CARD = "4111111111111111"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpZHRfMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_the_preview_masks_phone_numbers_ibans_cards_tokens_and_credential_fields() -> None:
    payload = {
        "withdrawal_id": "wd_01j9",
        "amount_minor": 150_000,
        "settled_at": "2024-05-01T10:30:00Z",
        "phone": PHONE,
        "national": "0712345678",
        "counterparty": {"account": IBAN, "card": CARD},
        "note": f"call {PHONE} or 254712345678",
        "callback_url": "https://payout.internal/api/v1/payments/payouts/callbacks/mpesa/s3cr3t-t0ken/result",
        "api_key": "live-key-0123456789",
        "bearer": JWT,
    }
    preview = payload_preview(orjson.dumps(payload))
    assert preview is not None
    for secret in (PHONE, "0712345678", "254712345678", IBAN, CARD, JWT, "s3cr3t-t0ken", "live-key-0123456789"):
        assert secret not in preview, secret
    shown = orjson.loads(preview)
    assert shown["withdrawal_id"] == "wd_01j9" and shown["amount_minor"] == 150_000  # what finds the cause stays
    assert shown["settled_at"] == "2024-05-01T10:30:00Z"
    assert shown["phone"] == "+254******678"
    assert shown["counterparty"] == {"account": "DE89****3000", "card": "************1111"}
    assert shown["api_key"] == "[REDACTED]"


def test_ids_and_numbers_that_are_not_personal_data_are_kept() -> None:
    text = "offset 1234567890123 of pay_01j9abc, amount 250000, at 2024-05-01, ZZ00 not an iban"
    assert redact_text(text) == text  # not Luhn-valid, no phone shape, no IBAN checksum


def test_the_preview_is_bounded_and_holds_no_nul() -> None:
    big = orjson.dumps({"lines": ["x" * 100] * 100})
    preview = payload_preview(big)
    assert preview is not None and len(preview) == PAYLOAD_PREVIEW_CHARS_MAX and preview.endswith("…")
    undecodable = payload_preview(b"\x00not json \xff")
    assert undecodable is not None and "\x00" not in undecodable and "not json" in undecodable
    assert payload_preview(None) is None


def test_an_entry_keeps_the_cloudevents_headers_but_not_the_dead_letter_ones() -> None:
    entry = dead_letter_entry(
        group_id="payout.payables",
        topic="payable.paid",
        partition=2,
        offset=41,
        key=b"pay_1",
        value=b'{"phone": "+254712345678"}',
        headers=[
            ("ce_id", b"evt_1"),
            ("ce_type", b"payable.paid"),
            ("ce_subject", PHONE.encode()),
            ("ce_dlqreason", b"earlier"),
            ("traceparent", b"00-abc"),
        ],
        reason=f"ValidationError: input_value='{PHONE}'",
        attempts=5,
    )
    assert entry.event_id == "evt_1" and entry.event_type == "payable.paid"
    assert entry.headers == {"ce_id": "evt_1", "ce_type": "payable.paid", "ce_subject": "+254******678"}
    assert PHONE not in entry.reason and entry.reason.startswith("ValidationError")
    assert entry.payload_bytes == len(b'{"phone": "+254712345678"}')
    assert entry.message_key == "pay_1"


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic: str, *, value: bytes | None, key: bytes | None, headers: object) -> object:
        self.sent.append((topic, value))

        async def delivered() -> None:
            return None

        return delivered()


@dataclass
class FakeLog:
    """In memory, keyed like the table: one entry per (group, topic, partition, offset)."""

    down_for: int = 0
    entries: dict[tuple[str, str, int, int], DeadLetterEntry] = field(default_factory=dict)
    calls: int = 0

    async def record(self, entry: DeadLetterEntry) -> None:
        self.calls += 1
        if self.calls <= self.down_for:
            try:
                raise ConnectionRefusedError(111, "connection refused")
            except ConnectionRefusedError as error:
                raise sqlalchemy.exc.OperationalError("INSERT", {}, error) from error
        self.entries.setdefault((entry.group_id, entry.topic, entry.partition, entry.offset), entry)


def publisher(log: FakeLog, producer: FakeProducer) -> DeadLetterPublisher:
    built = DeadLetterPublisher(
        "localhost:9092",
        client_id="test",
        enable_idempotence=False,
        publish_backoff=BackoffPolicy(attempts_max=2, initial_ms=1, maximum_ms=1),
        sleep_ms=RecordedSleeps(),
        log=log,
    )
    built._producer = producer  # the broker's side is the integration test's
    return built


async def poison(event: IncomingEvent) -> None:
    raise ValueError("cannot apply this")


def processor(dead_letters: DeadLetterPublisher) -> RecordProcessor:
    return RecordProcessor(
        group_id="funding.transfers",
        handler=poison,
        policy=BackoffPolicy(attempts_max=2, initial_ms=1, maximum_ms=1),
        dead_letter=dead_letters.sink("funding.transfers"),
        sleep_ms=RecordedSleeps(),
    )


async def test_a_dead_letter_is_published_then_recorded_once_however_often_it_comes_back() -> None:
    log, producer = FakeLog(), FakeProducer()
    dead_letters = processor(publisher(log, producer))
    poisoned: ConsumerRecord[bytes, bytes] = record()
    await dead_letters.process(poisoned)
    await dead_letters.process(poisoned)  # redelivered: the commit did not happen before a crash
    assert [topic for topic, _ in producer.sent] == ["payable.created.dlq", "payable.created.dlq"]
    assert list(log.entries) == [("funding.transfers", "payable.created", 1, 9)]
    (entry,) = log.entries.values()
    assert entry.reason == "ValueError: cannot apply this" and entry.attempts == 2 and entry.event_id == "evt_1"


async def test_a_database_outage_while_recording_rewinds_and_does_not_publish_again() -> None:
    log, producer = FakeLog(down_for=2), FakeProducer()  # both attempts of the first record fail
    dead_letters = processor(publisher(log, producer))
    with pytest.raises(InfrastructureUnavailableError) as raised:
        await dead_letters.process(record())
    assert isinstance(raised.value.__cause__, DeadLetterNotRecordedError)
    assert log.entries == {}
    await dead_letters.process(record())  # the group loop rewound; the database is back
    assert len(producer.sent) == 1, "published once: the retry only records"
    assert len(log.entries) == 1


async def test_an_undecodable_record_is_recorded_with_no_attempts() -> None:
    log, producer = FakeLog(), FakeProducer()
    await processor(publisher(log, producer)).process(record(value=b"\x00not json", headers=[]))
    (entry,) = log.entries.values()
    assert entry.attempts == 0 and entry.reason.startswith("undecodable") and entry.event_id is None
