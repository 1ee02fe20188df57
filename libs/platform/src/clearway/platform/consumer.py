"""The consumer runner: at-least-once delivery with retries, a dead-letter topic and manual commits.

One aiokafka consumer per group id. Each record is handled in offset order per partition: the
handler gets bounded, backed-off retries; after the last failure the original record goes to
`<topic>.dlq` and the partition moves on, so a poison message never blocks it. Offsets are
committed only for records that were handled (their transaction committed) or dead-lettered.

Plain aiokafka rather than FastStream subscribers: the runner needs exact per-partition offset
commits and its own retry/dead-letter loop, and FastStream's Kafka acknowledgement commits the
consumer's whole position (and by default before the handler runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter

from clearway.contracts.cloudevents import HEADER_PREFIX as CLOUDEVENTS_HEADER_PREFIX
from clearway.contracts.cloudevents import KafkaHeaders, read_attribute_strings
from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.failures import is_infrastructure_failure
from clearway.platform.kafka import dlq_topic
from clearway.platform.settings import ServiceSettings

logger = logging.getLogger(__name__)

MESSAGES_CONSUMED = Counter(
    "clearway_messages_consumed_total", "Consumed messages by outcome", ["topic", "group", "outcome"]
)

# Dead-letter attributes are CloudEvents extensions, so their names are lowercase letters only.
DLQ_REASON_HEADER = "ce_dlqreason"
DLQ_ATTEMPTS_HEADER = "ce_dlqattempts"
DLQ_TOPIC_HEADER = "ce_dlqtopic"
DLQ_PARTITION_HEADER = "ce_dlqpartition"
DLQ_OFFSET_HEADER = "ce_dlqoffset"
DLQ_GROUP_HEADER = "ce_dlqgroup"
DLQ_HEADER_PREFIX = "ce_dlq"
DLQ_REASON_LENGTH_MAX = 1_000
DLQ_PUBLISH_ATTEMPTS_MAX = 5
RETRY_BACKOFF_MS_MAX = 10_000
OUTAGE_BACKOFF_MS_MAX = 5_000
OUTAGE_BACKOFF_STEPS_MAX = 10
FETCH_RECORDS_MAX = 100
POLL_TIMEOUT_MS = 200
MAX_POLL_INTERVAL_MS = 300_000
STOP_TIMEOUT_MS = 30_000
# Time a handler is assumed to take per attempt when sizing fetched batches.
HANDLER_ATTEMPT_ALLOWANCE_MS = 1_000


class Outcome(StrEnum):
    PROCESSED = "processed"
    RETRIED = "retried"
    DEAD_LETTERED = "dead_lettered"


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
        time=_parse_time(attributes.get("time")),
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


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def dead_letter_headers(
    headers: Sequence[tuple[str, bytes | None]],
    *,
    reason: str,
    attempts: int,
    topic: str,
    partition: int,
    offset: int,
    group_id: str,
) -> KafkaHeaders:
    """The original headers (earlier dead-letter attributes replaced) plus where and why it failed."""
    kept = [(name, value or b"") for name, value in headers if not name.startswith(DLQ_HEADER_PREFIX)]
    added = {
        DLQ_REASON_HEADER: reason[:DLQ_REASON_LENGTH_MAX],
        DLQ_ATTEMPTS_HEADER: str(attempts),
        DLQ_TOPIC_HEADER: topic,
        DLQ_PARTITION_HEADER: str(partition),
        DLQ_OFFSET_HEADER: str(offset),
        DLQ_GROUP_HEADER: group_id,
    }
    assert all(name.startswith(CLOUDEVENTS_HEADER_PREFIX) for name in added)
    return kept + [(name, value.encode("utf-8")) for name, value in added.items()]


def retry_backoff_ms(attempt: int, base_ms: int, maximum_ms: int = RETRY_BACKOFF_MS_MAX) -> int:
    """Delay after failed attempt number `attempt` (1-based): base, 2x base, 4x base, ... capped."""
    assert attempt >= 1 and base_ms >= 1
    return min(maximum_ms, base_ms << min(attempt - 1, 30))


class DeadLetterSink(Protocol):
    async def __call__(self, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> None: ...


class HandlerTimeoutError(Exception):
    """The handler ran past its time limit; it counts as a failed attempt."""


class InfrastructureUnavailableError(Exception):
    """Handling failed because infrastructure is down; the record must be retried later, not dead-lettered."""


class StoppedError(Exception):
    """The runner is stopping: abandon the current record uncommitted, it will be redelivered."""


@dataclass
class RetryPolicy:
    attempts_max: int
    backoff_ms: int
    backoff_ms_max: int = RETRY_BACKOFF_MS_MAX

    def __post_init__(self) -> None:
        assert self.attempts_max >= 1 and self.backoff_ms >= 1 and self.backoff_ms_max >= self.backoff_ms

    def worst_case_ms(self) -> int:
        """Longest time one record can spend in back-off before it is dead-lettered."""
        return sum(retry_backoff_ms(n, self.backoff_ms, self.backoff_ms_max) for n in range(1, self.attempts_max))


class RecordProcessor:
    """Handles one record to a final outcome: processed, or dead-lettered after bounded retries."""

    def __init__(
        self,
        *,
        group_id: str,
        handler: Handler,
        policy: RetryPolicy,
        dead_letter: DeadLetterSink,
        sleep_ms: Callable[[int], Awaitable[None]],
        handler_timeout_ms: int = 30_000,
    ) -> None:
        assert handler_timeout_ms >= 1
        self._handler_timeout_ms = handler_timeout_ms
        self._group_id = group_id
        self._handler = handler
        self._policy = policy
        self._dead_letter = dead_letter
        self._sleep_ms = sleep_ms

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        try:
            event = parse_record(record)
        except UndecodableMessageError as error:
            logger.warning("undecodable record %s-%d@%d", record.topic, record.partition, record.offset)
            await self._dead_letter(record, f"undecodable: {error}", 0)
            self._count(record.topic, Outcome.DEAD_LETTERED)
            return Outcome.DEAD_LETTERED
        reason = ""
        last_error: BaseException | None = None
        for attempt in range(1, self._policy.attempts_max + 1):
            try:
                await self._handle(event)
            except Exception as error:
                last_error = error
                reason = f"{type(error).__name__}: {error}"
                logger.warning(
                    "handler failed for %s (attempt %d of %d)",
                    event.id,
                    attempt,
                    self._policy.attempts_max,
                    exc_info=True,
                )
                if attempt < self._policy.attempts_max:
                    self._count(event.topic, Outcome.RETRIED)
                    await self._sleep_ms(
                        retry_backoff_ms(attempt, self._policy.backoff_ms, self._policy.backoff_ms_max)
                    )
                continue
            self._count(event.topic, Outcome.PROCESSED)
            return Outcome.PROCESSED
        if last_error is not None and is_infrastructure_failure(last_error):
            # The database or a downstream service is down, not this message: dead-lettering would
            # divert every message of the outage. Stop here; the runner rewinds and waits.
            raise InfrastructureUnavailableError(reason) from last_error
        logger.error("dead-lettering %s after %d attempts: %s", event.id, self._policy.attempts_max, reason)
        await self._dead_letter(record, reason, self._policy.attempts_max)
        self._count(event.topic, Outcome.DEAD_LETTERED)
        return Outcome.DEAD_LETTERED

    async def _handle(self, event: IncomingEvent) -> None:
        # Events produced while handling continue this flow and were caused by this event.
        correlation_token = correlation_id_var.set(event.correlation_id)
        causation_token = causation_id_var.set(event.id)
        try:
            # A hung handler would hold its partition forever; a timeout makes it a failed attempt.
            async with asyncio.timeout(self._handler_timeout_ms / 1000) as deadline:
                try:
                    await self._handler(event)
                except TimeoutError:
                    if deadline.expired():
                        raise HandlerTimeoutError(f"handler took over {self._handler_timeout_ms} ms") from None
                    raise
        finally:
            causation_id_var.reset(causation_token)
            correlation_id_var.reset(correlation_token)

    def _count(self, topic: str, outcome: Outcome) -> None:
        MESSAGES_CONSUMED.labels(topic, self._group_id, outcome.value).inc()


@dataclass
class _Group:
    group_id: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class ConsumerRunner:
    """Runs every subscription of a service; `add` them all, then `start`, and `stop` at shutdown."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "clearway",
        session_timeout_ms: int = 6_000,
        heartbeat_interval_ms: int = 500,
        retry_attempts_max: int = 5,
        retry_backoff_ms: int = 100,
        retry_backoff_ms_max: int = RETRY_BACKOFF_MS_MAX,
        handler_timeout_ms: int = 30_000,
        fetch_records_max: int = FETCH_RECORDS_MAX,
        max_poll_interval_ms: int = MAX_POLL_INTERVAL_MS,
        enable_idempotence: bool = False,
        group_id_prefix: str = "",
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._group_id_prefix = group_id_prefix
        self._client_id = client_id
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._policy = RetryPolicy(retry_attempts_max, retry_backoff_ms, retry_backoff_ms_max)
        self._handler_timeout_ms = handler_timeout_ms
        # The group evicts a consumer that does not poll within max_poll_interval_ms. One record
        # may take every attempt up to its timeout plus every back-off, so the interval covers
        # that; a fetched batch is sized by a realistic per-attempt time, so a run of poison
        # records still fits (if it did not, the cost would be redelivery, not loss).
        record_worst_ms = self._policy.worst_case_ms() + retry_attempts_max * handler_timeout_ms
        self._max_poll_interval_ms = max(max_poll_interval_ms, 2 * record_worst_ms)
        record_typical_ms = self._policy.worst_case_ms() + retry_attempts_max * HANDLER_ATTEMPT_ALLOWANCE_MS
        self._fetch_records_max = max(1, min(fetch_records_max, self._max_poll_interval_ms // record_typical_ms))
        self._groups: dict[str, _Group] = {}
        self._batch_records_max = 0
        self._enable_idempotence = enable_idempotence
        # aiokafka clients bind to the running loop when built, so they are built in start().
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._started = False

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **overrides: Any) -> ConsumerRunner:
        options: dict[str, Any] = {
            "client_id": settings.service_name,
            "session_timeout_ms": settings.kafka_session_timeout_ms,
            "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
            "retry_attempts_max": settings.consumer_retry_attempts_max,
            "retry_backoff_ms": settings.consumer_retry_backoff_ms,
            "enable_idempotence": settings.kafka_enable_idempotence,
            "group_id_prefix": settings.kafka_consumer_group_prefix,
        }
        options.update(overrides)
        return cls(settings.kafka_bootstrap_servers, **options)

    def add(self, topic: str, group_id: str, handler: Handler) -> None:
        assert not self._started, "add subscriptions before start()"
        assert topic and group_id, "every subscription needs a topic and an explicit group id"
        group = self._groups.setdefault(group_id, _Group(group_id))
        assert topic not in group.handlers, f"{group_id} already handles {topic}"
        group.handlers[topic] = handler

    def add_batch(self, topic: str, group_id: str, handler: BatchHandler, *, records_max: int = 1_000) -> None:
        """Subscribe a batch handler; falls back to one record at a time when a batch fails."""
        assert 1 <= records_max <= 10_000
        self.add(topic, group_id, lambda event: handler([event]))
        self._groups[group_id].batch_handlers[topic] = handler
        self._batch_records_max = max(self._batch_records_max, records_max)

    async def start(self) -> None:
        assert not self._started, "start() called twice"
        self._started = True
        self._stopping.clear()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=f"{self._client_id}-dlq",
            acks="all",
            enable_idempotence=self._enable_idempotence,
        )
        await self._producer.start()
        for group in self._groups.values():
            consumer = self._new_consumer(group)
            await consumer.start()
            group.task = asyncio.create_task(self._consume(group, consumer), name=f"consume-{group.group_id}")

    async def stop(self) -> None:
        """Finish the record in hand, commit what was handled, then leave the groups."""
        self._stopping.set()
        tasks = [group.task for group in self._groups.values() if group.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_MS / 1000)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        self._started = False

    def healthy(self) -> bool:
        """True while every group's loop is running (a crashed loop stays crashed until restart)."""
        return self._started and all(
            group.task is not None and not group.task.done() for group in self._groups.values()
        )

    def _new_consumer(self, group: _Group) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *group.handlers,
            bootstrap_servers=self._bootstrap_servers,
            client_id=f"{self._client_id}-{group.group_id}",
            group_id=self._group_id_prefix + group.group_id,
            enable_auto_commit=False,
            # A new group reads from the beginning: nothing published before it joined is missed.
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_interval_ms,
            max_poll_records=self._fetch_records_max,
            max_poll_interval_ms=self._max_poll_interval_ms,
        )

    async def _consume(self, group: _Group, consumer: AIOKafkaConsumer) -> None:
        processors = {
            topic: RecordProcessor(
                group_id=group.group_id,
                handler=handler,
                policy=self._policy,
                dead_letter=lambda record, reason, attempts: self._dead_letter(
                    group.group_id, record, reason, attempts
                ),
                sleep_ms=self._sleep_unless_stopping,
                handler_timeout_ms=self._handler_timeout_ms,
            )
            for topic, handler in group.handlers.items()
        }
        handled: dict[TopicPartition, int] = {}
        outages = 0
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=self._poll_records_max(group))
                for topic, handler in group.batch_handlers.items():
                    partitions = [partition for partition in batches if partition.topic == topic]
                    records = [record for partition in partitions for record in batches[partition]]
                    if records and await self._handle_batch(group.group_id, handler, records):
                        for partition in partitions:
                            handled[partition] = batches.pop(partition)[-1].offset + 1
                outage = False
                for partition, records in batches.items():
                    for record in records:
                        if self._stopping.is_set():
                            raise StoppedError
                        try:
                            await processors[record.topic].process(record)
                        except InfrastructureUnavailableError:
                            # Rewind so this record is fetched again once the dependency is back;
                            # records after it in this partition wait with it (order is kept).
                            consumer.seek(partition, record.offset)
                            outage = True
                            break
                        handled[partition] = record.offset + 1
                await self._commit(consumer, handled)
                if outage:
                    outages += 1
                    logger.warning("dependency unavailable; pausing consumption (outage poll %d)", outages)
                    await self._sleep_unless_stopping(
                        retry_backoff_ms(
                            min(outages, OUTAGE_BACKOFF_STEPS_MAX), self._policy.backoff_ms, OUTAGE_BACKOFF_MS_MAX
                        )
                    )
                else:
                    outages = 0
        except StoppedError:
            pass
        except Exception:
            logger.exception("consumer loop for group %s crashed", group.group_id)
            raise
        finally:
            with contextlib.suppress(Exception):
                await self._commit(consumer, handled)
            await consumer.stop()

    def _poll_records_max(self, group: _Group) -> int:
        return (
            max(self._fetch_records_max, self._batch_records_max) if group.batch_handlers else self._fetch_records_max
        )

    async def _handle_batch(
        self, group_id: str, handler: BatchHandler, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> bool:
        """True when the whole partition batch was handled in one call; False: replay one by one."""
        try:
            events = [parse_record(record) for record in records]
        except UndecodableMessageError:
            return False
        try:
            await handler(events)
        except Exception:
            logger.warning("batch of %d failed; replaying one record at a time", len(events), exc_info=True)
            return False
        MESSAGES_CONSUMED.labels(records[0].topic, group_id, Outcome.PROCESSED.value).inc(len(events))
        return True

    async def _commit(self, consumer: AIOKafkaConsumer, handled: dict[TopicPartition, int]) -> None:
        if not handled:
            return
        offsets = dict(handled)
        handled.clear()
        try:
            await consumer.commit(offsets)
        except Exception:
            # Typically a rebalance took the partition away; its new owner redelivers these
            # records and the handlers' inboxes absorb them.
            logger.warning("offset commit failed; records may be redelivered", exc_info=True)

    async def _dead_letter(
        self, group_id: str, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int
    ) -> None:
        headers = dead_letter_headers(
            list(record.headers),
            reason=reason,
            attempts=attempts,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group_id=group_id,
        )
        assert self._producer is not None, "dead-lettering needs start()"
        for attempt in range(1, DLQ_PUBLISH_ATTEMPTS_MAX + 1):
            try:
                delivery = await self._producer.send(
                    dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
                )
                await delivery
                return
            except Exception:
                if attempt == DLQ_PUBLISH_ATTEMPTS_MAX:
                    # Not committing is the only safe move: the loop ends, health turns false,
                    # and a restart redelivers the record.
                    raise
                logger.warning("dead-letter publish failed (attempt %d)", attempt, exc_info=True)
                await self._sleep_unless_stopping(retry_backoff_ms(attempt, self._policy.backoff_ms))

    async def _sleep_unless_stopping(self, delay_ms: int) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay_ms / 1000)
        if self._stopping.is_set():
            raise StoppedError
