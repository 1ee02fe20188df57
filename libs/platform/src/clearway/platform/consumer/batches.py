"""Batch subscriptions: one poll's records of a topic handed to a batch handler in one call.

When the batch handler fails (or a record in it is undecodable), nothing of that batch is marked
handled: the group loop replays the same records one by one through `RecordProcessor`, so one
poison record is retried and dead-lettered alone and the others still go through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from aiokafka import ConsumerRecord, TopicPartition

from clearway.platform.consumer.events import BatchHandler, UndecodableMessageError, parse_record
from clearway.platform.consumer.processor import Outcome, count

logger = logging.getLogger(__name__)

Records = Sequence[ConsumerRecord[bytes, bytes]]


async def handle_batches(
    group_id: str,
    batch_handlers: Mapping[str, BatchHandler],
    polled: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    handled: dict[TopicPartition, int],
) -> None:
    """Hand each batch-subscribed topic's polled records to its handler. The partitions of a batch
    that succeeded leave `polled` and their next offsets go into `handled`; the records of a
    batch that failed stay in `polled` for one-by-one replay."""
    for topic, handler in batch_handlers.items():
        partitions = [partition for partition in polled if partition.topic == topic]
        records = [record for partition in partitions for record in polled[partition]]
        if records and await handle_batch(group_id, handler, records):
            for partition in partitions:
                handled[partition] = polled.pop(partition)[-1].offset + 1


async def handle_batch(group_id: str, handler: BatchHandler, records: Records) -> bool:
    """True when the whole batch was handled in one call; False: replay it one record at a time."""
    assert records, "a batch has records"
    try:
        events = [parse_record(record) for record in records]
    except UndecodableMessageError:
        return False
    try:
        await handler(events)
    except Exception:
        logger.warning("batch of %d failed; replaying one record at a time", len(events), exc_info=True)
        return False
    count(records[0].topic, group_id, Outcome.PROCESSED, len(events))
    return True
