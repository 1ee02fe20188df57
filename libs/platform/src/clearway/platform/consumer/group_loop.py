"""The loop of one consumer group: poll, handle in offset order, commit exact offsets, rewind on outages.

Each partition's records are handled one at a time in offset order; `handled[partition]` becomes
`record.offset + 1` only after the record reached a final outcome (processed or dead-lettered), and
that explicit map is what gets committed, never the consumer's position. When a dependency is down
the partition is sought back to the record in hand, what was finished is committed, and the loop
waits (growing, capped) before polling again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from prometheus_client import Gauge

from clearway.platform.consumer.batches import handle_batches
from clearway.platform.consumer.events import BatchHandler
from clearway.platform.consumer.processor import InfrastructureUnavailableError, RecordProcessor
from clearway.platform.retry import BackoffPolicy

logger = logging.getLogger(__name__)

# How far each partition's handled offset is behind the end of the partition (its high watermark)
# as of the group's last poll: the consumer lag an operator watches (the console's overview shows it).
CONSUMER_LAG = Gauge(
    "clearway_consumer_lag_messages",
    "Records behind the partition's end, as of the group's last poll",
    ["group", "topic", "partition"],
)

POLL_TIMEOUT_MS = 200
# Consecutive outage polls after which the pause stops growing.
OUTAGE_BACKOFF_STEPS_MAX = 10


class StoppedError(Exception):
    """The runner is stopping: abandon the current record uncommitted, it will be redelivered."""


async def sleep_unless_stopping(stopping: asyncio.Event, delay_ms: int) -> None:
    """Sleep `delay_ms`, or raise StoppedError as soon as (or if already) `stopping` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), delay_ms / 1000)
    if stopping.is_set():
        raise StoppedError


class GroupLoop:
    def __init__(
        self,
        *,
        group_id: str,
        consumer: AIOKafkaConsumer,
        processors: Mapping[str, RecordProcessor],
        batch_handlers: Mapping[str, BatchHandler],
        poll_records_max: int,
        outage_backoff: BackoffPolicy,
        stopping: asyncio.Event,
        sleep_ms: Callable[[int], Awaitable[None]],
    ) -> None:
        assert poll_records_max >= 1
        self._group_id = group_id
        self._consumer = consumer
        self._processors = processors
        self._batch_handlers = batch_handlers
        self._poll_records_max = poll_records_max
        self._outage_backoff = outage_backoff
        self._stopping = stopping
        self._sleep_ms = sleep_ms

    async def run(self) -> None:
        """Until the runner stops; a crash ends the loop (the runner reports it as unhealthy)."""
        handled: dict[TopicPartition, int] = {}
        outages = 0
        try:
            while not self._stopping.is_set():
                polled = await self._consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=self._poll_records_max)
                await handle_batches(self._group_id, self._batch_handlers, polled, handled)
                outage = await self._handle_one_by_one(polled, handled)
                self._report_lag(handled)
                await self._commit(handled)
                if outage:
                    outages += 1
                    logger.warning("dependency unavailable; pausing consumption (outage poll %d)", outages)
                    await self._sleep_ms(self._outage_backoff.delay_ms(min(outages, OUTAGE_BACKOFF_STEPS_MAX)))
                else:
                    outages = 0
        except StoppedError:
            pass
        except Exception:
            logger.exception("consumer loop for group %s crashed", self._group_id)
            raise
        finally:
            with contextlib.suppress(Exception):
                await self._commit(handled)
            await self._consumer.stop()

    async def _handle_one_by_one(
        self, polled: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]], handled: dict[TopicPartition, int]
    ) -> bool:
        """Every polled record in offset order per partition; True when an outage stopped a partition."""
        outage = False
        for partition, records in polled.items():
            for record in records:
                if self._stopping.is_set():
                    raise StoppedError
                try:
                    await self._processors[record.topic].process(record)
                except InfrastructureUnavailableError:
                    # Rewind so this record is fetched again once the dependency is back;
                    # records after it in this partition wait with it (order is kept).
                    self._consumer.seek(partition, record.offset)
                    outage = True
                    break
                handled[partition] = record.offset + 1
        return outage

    def _report_lag(self, handled: Mapping[TopicPartition, int]) -> None:
        """For each partition this poll moved: the partition's end minus the next offset to handle."""
        for partition, next_offset in handled.items():
            highwater = self._consumer.highwater(partition)
            if highwater is not None:
                lag = max(0, highwater - next_offset)
                CONSUMER_LAG.labels(self._group_id, partition.topic, str(partition.partition)).set(lag)

    async def _commit(self, handled: dict[TopicPartition, int]) -> None:
        if not handled:
            return
        offsets = dict(handled)
        handled.clear()
        try:
            await self._consumer.commit(offsets)
        except Exception:
            # Typically a rebalance took the partition away; its new owner redelivers these
            # records and the handlers' inboxes absorb them.
            logger.warning("offset commit failed; records may be redelivered", exc_info=True)
