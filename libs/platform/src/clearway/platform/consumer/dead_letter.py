"""Dead letters: a record that cannot be handled goes, unchanged, to `<topic>.dlq`, and is recorded.

The original key, value and headers are kept; `ce_dlq*` headers say where it came from and why it
failed. The publish waits for every in-sync replica (`acks="all"`): the runner commits the
record's offset only after the dead letter is safely stored. Then, when the runner has a
`DeadLetterLog` (a service's runtime gives it its own database: `clearway.platform.dead_letters`),
the dead letter is recorded there, still before the commit, so an operator can list and count it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer, ConsumerRecord

from clearway.contracts.cloudevents import HEADER_PREFIX as CLOUDEVENTS_HEADER_PREFIX
from clearway.contracts.cloudevents import KafkaHeaders
from clearway.platform.dead_letters.entries import DeadLetterEntry, dead_letter_entry
from clearway.platform.failures import is_infrastructure_failure
from clearway.platform.kafka import dlq_topic
from clearway.platform.retry import BackoffPolicy, any_error

logger = logging.getLogger(__name__)

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
# Records published to the DLQ whose row the database did not take yet (it was down): on the
# redelivery the publish is skipped, so an outage does not copy the record again on every retry.
UNRECORDED_REMEMBERED_MAX = 1_000

Position = tuple[str, str, int, int]  # group, topic, partition, offset


class DeadLetterSink(Protocol):
    async def __call__(self, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> None: ...


class DeadLetterLog(Protocol):
    """Where dead letters are recorded for operators; a repeat of the same record is recorded once."""

    async def record(self, entry: DeadLetterEntry) -> object: ...


class DeadLetterNotRecordedError(Exception):
    """The dead letter is on `<topic>.dlq` but its row could not be written because the database is
    down: the runner treats it as an outage (rewind, wait, try again), never as handled."""


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


class DeadLetterPublisher:
    """One producer for every group of a runner; `sink(group_id)` is what a RecordProcessor calls."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        enable_idempotence: bool,
        publish_backoff: BackoffPolicy,
        sleep_ms: Callable[[int], Awaitable[None]],
        log: DeadLetterLog | None = None,
    ) -> None:
        assert publish_backoff.attempts_max is not None, "a dead-letter publish gives up, and the loop with it"
        self._log = log
        self._unrecorded: OrderedDict[Position, None] = OrderedDict()
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._enable_idempotence = enable_idempotence
        self._publish_backoff = publish_backoff
        self._sleep_ms = sleep_ms
        # aiokafka clients bind to the running loop when built, so the producer is built in start().
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        assert self._producer is None, "start() called twice"
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=self._enable_idempotence,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def sink(self, group_id: str) -> DeadLetterSink:
        async def dead_letter(record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> None:
            position = (group_id, record.topic, record.partition, record.offset)
            if position not in self._unrecorded:
                await self.publish(group_id, record, reason, attempts)
            if self._log is not None:
                await self._record(position, record, reason, attempts)

        return dead_letter

    async def _record(
        self, position: Position, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int
    ) -> None:
        """After the publish, before the commit. Transient database errors are retried (bounded);
        any other error propagates like a failed publish (the group's loop ends, nothing commits)."""
        log = self._log
        assert log is not None
        entry = dead_letter_entry(
            group_id=position[0],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
            reason=reason,
            attempts=attempts,
        )
        try:
            async for attempt in self._publish_backoff.retrying(
                retry_if=is_infrastructure_failure, sleep=self._sleep_s, what="dead-letter record"
            ):
                with attempt:
                    await log.record(entry)
        except Exception as error:
            if not is_infrastructure_failure(error):
                raise
            self._unrecorded[position] = None
            while len(self._unrecorded) > UNRECORDED_REMEMBERED_MAX:
                self._unrecorded.popitem(last=False)
            raise DeadLetterNotRecordedError(f"dead letter {position} published but not recorded") from error
        self._unrecorded.pop(position, None)

    async def publish(self, group_id: str, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> None:
        """Returns once the broker stored the dead letter. After the last failed attempt the error
        propagates: not committing is the only safe move, so the group's loop ends, health turns
        false, and a restart redelivers the record."""
        producer = self._producer
        assert producer is not None, "dead-lettering needs start()"
        headers = dead_letter_headers(
            list(record.headers),
            reason=reason,
            attempts=attempts,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group_id=group_id,
        )
        async for attempt in self._publish_backoff.retrying(
            retry_if=any_error, sleep=self._sleep_s, what="dead-letter publish"
        ):
            with attempt:
                delivery = await producer.send(
                    dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
                )
                await delivery

    async def _sleep_s(self, delay_s: float) -> None:
        # The runner's sleep ends early, raising, when the runner stops.
        await self._sleep_ms(round(delay_s * 1000))
