from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import ConsumerRecord

from clearway.platform.consumer import (
    DLQ_ATTEMPTS_HEADER,
    DLQ_OFFSET_HEADER,
    DLQ_REASON_HEADER,
    DLQ_TOPIC_HEADER,
    ConsumerRunner,
    IncomingEvent,
    Outcome,
    RecordProcessor,
    dead_letter_headers,
)
from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.relay import OutboxRelay
from clearway.platform.retry import BackoffPolicy


def record(value: bytes | None = b'{"n": 1}', headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord:
    return ConsumerRecord(
        topic="payable.created",
        partition=1,
        offset=9,
        timestamp=0,
        timestamp_type=0,
        key=b"pay_1",
        value=value,
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=len(value or b""),
        headers=headers if headers is not None else [("ce_id", b"evt_1"), ("ce_correlationid", b"req_1")],
    )


@dataclass
class FlakyHandler:
    """Fails the first `failures` calls, then succeeds; remembers the context it ran in."""

    failures: int
    calls: int = 0
    seen_context: list[tuple[str | None, str | None]] = field(default_factory=list)

    async def __call__(self, event: IncomingEvent) -> None:
        self.calls += 1
        self.seen_context.append((correlation_id_var.get(), causation_id_var.get()))
        if self.calls <= self.failures:
            raise RuntimeError(f"boom {self.calls}")


@dataclass
class DeadLetters:
    sent: list[tuple[ConsumerRecord, str, int]] = field(default_factory=list)

    async def __call__(self, record: ConsumerRecord, reason: str, attempts: int) -> None:
        self.sent.append((record, reason, attempts))


@dataclass
class RecordedSleeps:
    delays_ms: list[int] = field(default_factory=list)

    async def __call__(self, delay_ms: int) -> None:
        self.delays_ms.append(delay_ms)


def processor(handler: FlakyHandler, dead_letters: DeadLetters, sleeps: RecordedSleeps) -> RecordProcessor:
    return RecordProcessor(
        group_id="funding-payables",
        handler=handler,
        policy=BackoffPolicy(attempts_max=4, initial_ms=100, maximum_ms=10_000),
        dead_letter=dead_letters,
        sleep_ms=sleeps,
    )


async def test_handler_that_recovers_is_retried_with_backoff() -> None:
    handler, dead_letters, sleeps = FlakyHandler(failures=2), DeadLetters(), RecordedSleeps()
    outcome = await processor(handler, dead_letters, sleeps).process(record())
    assert outcome is Outcome.PROCESSED
    assert handler.calls == 3
    assert sleeps.delays_ms == [100, 200]
    assert dead_letters.sent == []


async def test_handler_that_keeps_failing_is_dead_lettered_after_the_last_attempt() -> None:
    handler, dead_letters, sleeps = FlakyHandler(failures=99), DeadLetters(), RecordedSleeps()
    poison = record()
    outcome = await processor(handler, dead_letters, sleeps).process(poison)
    assert outcome is Outcome.DEAD_LETTERED
    assert handler.calls == 4
    assert sleeps.delays_ms == [100, 200, 400]
    [(sent, reason, attempts)] = dead_letters.sent
    assert sent is poison and attempts == 4
    assert reason == "RuntimeError: boom 4"


async def test_undecodable_record_goes_straight_to_dead_letters() -> None:
    handler, dead_letters, sleeps = FlakyHandler(failures=0), DeadLetters(), RecordedSleeps()
    outcome = await processor(handler, dead_letters, sleeps).process(record(value=b"\x00garbage"))
    assert outcome is Outcome.DEAD_LETTERED
    assert handler.calls == 0 and sleeps.delays_ms == []
    [(_, reason, attempts)] = dead_letters.sent
    assert reason.startswith("undecodable") and attempts == 0


async def test_handler_runs_in_the_event_context_and_the_context_is_restored() -> None:
    handler = FlakyHandler(failures=1)
    correlation_id_var.set(None)
    await processor(handler, DeadLetters(), RecordedSleeps()).process(record())
    assert handler.seen_context == [("req_1", "evt_1"), ("req_1", "evt_1")]
    assert correlation_id_var.get() is None and causation_id_var.get() is None


def test_dead_letter_headers_keep_the_original_and_say_why() -> None:
    original = [("ce_id", b"evt_1"), ("content-type", b"application/json"), (DLQ_REASON_HEADER, b"old")]
    headers = dead_letter_headers(
        original, reason="x" * 5_000, attempts=5, topic="payable.created", partition=1, offset=9, group_id="g"
    )
    names = [name for name, _ in headers]
    assert names.count(DLQ_REASON_HEADER) == 1
    as_dict = dict(headers)
    assert as_dict["ce_id"] == b"evt_1"
    assert len(as_dict[DLQ_REASON_HEADER]) == 1_000
    assert as_dict[DLQ_ATTEMPTS_HEADER] == b"5"
    assert as_dict[DLQ_TOPIC_HEADER] == b"payable.created"
    assert as_dict[DLQ_OFFSET_HEADER] == b"9"


def test_the_runner_and_relay_backoffs_double_and_are_capped() -> None:
    runner = ConsumerRunner("localhost:9092", retry_backoff_ms=100)
    assert [runner.handler_retry_backoff.delay_ms(n) for n in (1, 2, 3)] == [100, 200, 400]
    assert runner.handler_retry_backoff.worst_case_delay_ms() == 100 + 200 + 400 + 800
    assert [runner.dead_letter_publish_backoff.delay_ms(n) for n in (1, 4)] == [100, 800]
    assert runner.outage_backoff.delay_ms(10) == 5_000
    relay = OutboxRelay(None, None, poll_interval_ms=500)  # type: ignore[arg-type]
    assert [relay.publish_failure_backoff.delay_ms(n) for n in (1, 2, 3)] == [500, 1_000, 2_000]
    assert relay.publish_failure_backoff.delay_ms(100) == 30_000
    assert relay.listen_reconnect_backoff.delay_ms(100) == 10_000


def test_a_base_above_a_cap_waits_the_cap() -> None:
    runner = ConsumerRunner("localhost:9092", retry_backoff_ms=20_000, retry_backoff_ms_max=30_000)
    assert runner.dead_letter_publish_backoff.delay_ms(1) == 10_000
    assert runner.outage_backoff.delay_ms(1) == 5_000
