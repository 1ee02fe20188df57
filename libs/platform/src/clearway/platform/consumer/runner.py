"""`ConsumerRunner`: every subscription of a service, one aiokafka consumer and loop per group id.

`add` (or `add_batch`) every subscription, then `start`; `stop` at shutdown finishes the record in
hand, commits what was handled and leaves the groups. The runner sizes polls and the group's poll
interval so that a record's every attempt and back-off fits, and holds the three back-off policies:
between a handler's attempts, between dead-letter publishes, and while a dependency is down.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

from clearway.platform.consumer.dead_letter import DLQ_PUBLISH_ATTEMPTS_MAX, DeadLetterLog, DeadLetterPublisher
from clearway.platform.consumer.events import BatchHandler, Handler
from clearway.platform.consumer.group_loop import GroupLoop, sleep_unless_stopping
from clearway.platform.consumer.processor import HANDLER_TIMEOUT_MS, RETRY_BACKOFF_MS_MAX, RecordProcessor
from clearway.platform.retry import BackoffPolicy
from clearway.platform.settings import ServiceSettings

OUTAGE_BACKOFF_MS_MAX = 5_000
FETCH_RECORDS_MAX = 100
MAX_POLL_INTERVAL_MS = 300_000
STOP_TIMEOUT_MS = 30_000
# Time a handler is assumed to take per attempt when sizing fetched batches.
HANDLER_ATTEMPT_ALLOWANCE_MS = 1_000


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
        handler_timeout_ms: int = HANDLER_TIMEOUT_MS,
        fetch_records_max: int = FETCH_RECORDS_MAX,
        max_poll_interval_ms: int = MAX_POLL_INTERVAL_MS,
        enable_idempotence: bool = False,
        group_id_prefix: str = "",
        dead_letter_log: DeadLetterLog | None = None,
    ) -> None:
        """`dead_letter_log`: where each dead letter is also recorded, after its publish and before
        the commit (a service's runtime passes its own database: `SqlDeadLetterLog`)."""
        assert retry_backoff_ms >= 1
        self._dead_letter_log = dead_letter_log
        self._bootstrap_servers = bootstrap_servers
        self._group_id_prefix = group_id_prefix
        self._client_id = client_id
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self.handler_retry_backoff = BackoffPolicy(
            attempts_max=retry_attempts_max, initial_ms=retry_backoff_ms, maximum_ms=retry_backoff_ms_max
        )
        # Both start at the handler's back-off; each has its own cap (a base above the cap waits the cap).
        self.dead_letter_publish_backoff = BackoffPolicy(
            attempts_max=DLQ_PUBLISH_ATTEMPTS_MAX,
            initial_ms=min(retry_backoff_ms, RETRY_BACKOFF_MS_MAX),
            maximum_ms=RETRY_BACKOFF_MS_MAX,
        )
        # Unbounded: the loop waits out an outage however long it lasts, polling at the capped pace.
        self.outage_backoff = BackoffPolicy(
            attempts_max=None,
            initial_ms=min(retry_backoff_ms, OUTAGE_BACKOFF_MS_MAX),
            maximum_ms=OUTAGE_BACKOFF_MS_MAX,
        )
        self._handler_timeout_ms = handler_timeout_ms
        # The group evicts a consumer that does not poll within max_poll_interval_ms. One record
        # may take every attempt up to its timeout plus every back-off, so the interval covers
        # that; a fetched batch is sized by a realistic per-attempt time, so a run of poison
        # records still fits (if it did not, the cost would be redelivery, not loss).
        backoff_worst_ms = self.handler_retry_backoff.worst_case_delay_ms()
        record_worst_ms = backoff_worst_ms + retry_attempts_max * handler_timeout_ms
        self._max_poll_interval_ms = max(max_poll_interval_ms, 2 * record_worst_ms)
        record_typical_ms = backoff_worst_ms + retry_attempts_max * HANDLER_ATTEMPT_ALLOWANCE_MS
        self._fetch_records_max = max(1, min(fetch_records_max, self._max_poll_interval_ms // record_typical_ms))
        self._groups: dict[str, _Group] = {}
        self._batch_records_max = 0
        self._enable_idempotence = enable_idempotence
        self._dead_letters: DeadLetterPublisher | None = None
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
        # aiokafka clients bind to the running loop when built, so they are built here.
        self._dead_letters = DeadLetterPublisher(
            self._bootstrap_servers,
            client_id=f"{self._client_id}-dlq",
            enable_idempotence=self._enable_idempotence,
            publish_backoff=self.dead_letter_publish_backoff,
            sleep_ms=self._sleep_unless_stopping,
            log=self._dead_letter_log,
        )
        await self._dead_letters.start()
        groups = list(self._groups.values())
        consumers = [self._new_consumer(group) for group in groups]
        # Together, not one after another: each start waits on the broker, and a service with
        # several groups (reconciliation has seven) would otherwise start that many times slower.
        await asyncio.gather(*(consumer.start() for consumer in consumers))
        for group, consumer in zip(groups, consumers, strict=True):
            loop = self._group_loop(group, consumer, self._dead_letters)
            group.task = asyncio.create_task(loop.run(), name=f"consume-{group.group_id}")

    async def stop(self) -> None:
        """Finish the record in hand, commit what was handled, then leave the groups."""
        self._stopping.set()
        tasks = [group.task for group in self._groups.values() if group.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_MS / 1000)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._dead_letters is not None:
            await self._dead_letters.stop()
            self._dead_letters = None
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

    def _group_loop(self, group: _Group, consumer: AIOKafkaConsumer, dead_letters: DeadLetterPublisher) -> GroupLoop:
        processors = {
            topic: RecordProcessor(
                group_id=group.group_id,
                handler=handler,
                policy=self.handler_retry_backoff,
                dead_letter=dead_letters.sink(group.group_id),
                sleep_ms=self._sleep_unless_stopping,
                handler_timeout_ms=self._handler_timeout_ms,
            )
            for topic, handler in group.handlers.items()
        }
        poll_records_max = (
            max(self._fetch_records_max, self._batch_records_max) if group.batch_handlers else self._fetch_records_max
        )
        return GroupLoop(
            group_id=group.group_id,
            consumer=consumer,
            processors=processors,
            batch_handlers=group.batch_handlers,
            poll_records_max=poll_records_max,
            outage_backoff=self.outage_backoff,
            stopping=self._stopping,
            sleep_ms=self._sleep_unless_stopping,
        )

    async def _sleep_unless_stopping(self, delay_ms: int) -> None:
        await sleep_unless_stopping(self._stopping, delay_ms)
