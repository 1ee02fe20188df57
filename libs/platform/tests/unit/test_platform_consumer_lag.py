"""Consumer lag per partition, as of each poll: the end of the partition minus the next offset the
group will handle (`clearway_consumer_lag_messages`, read by the console's overview)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import REGISTRY

from clearway.platform.consumer import IncomingEvent, RecordProcessor
from clearway.platform.consumer.group_loop import GroupLoop
from clearway.platform.retry import BackoffPolicy

from .test_platform_consumer_policy import DeadLetters, RecordedSleeps

TOPIC = "payable.created"
PARTITION = TopicPartition(TOPIC, 3)


def record_at(offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic=TOPIC,
        partition=PARTITION.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"pay_1",
        value=b'{"n": 1}',
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=8,
        headers=[("ce_id", f"evt_{offset}".encode())],
    )


@dataclass
class OnePollConsumer:
    """Polls once (records 10-12 of a partition that ends at 50), then lets the loop stop."""

    stopping: asyncio.Event
    committed: list[dict[TopicPartition, int]] = field(default_factory=list)

    polls: int = 0

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        self.polls += 1
        if self.polls > 1:
            self.stopping.set()
            return {}
        return {PARTITION: [record_at(offset) for offset in (10, 11, 12)]}

    def highwater(self, partition: TopicPartition) -> int | None:
        return 50 if partition == PARTITION else None

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.append(offsets)

    async def stop(self) -> None:
        return None


async def handled(_event: IncomingEvent) -> None:
    return None


async def test_the_lag_is_the_partitions_end_minus_the_next_offset_to_handle() -> None:
    stopping = asyncio.Event()
    consumer = OnePollConsumer(stopping)
    processor = RecordProcessor(
        group_id="funding.lag",
        handler=handled,
        policy=BackoffPolicy(attempts_max=1, initial_ms=1, maximum_ms=1),
        dead_letter=DeadLetters(),
        sleep_ms=RecordedSleeps(),
    )
    loop = GroupLoop(
        group_id="funding.lag",
        consumer=consumer,  # type: ignore[arg-type]
        processors={TOPIC: processor},
        batch_handlers={},
        poll_records_max=100,
        outage_backoff=BackoffPolicy(attempts_max=1, initial_ms=1, maximum_ms=1),
        stopping=stopping,
        sleep_ms=RecordedSleeps(),
    )
    await loop.run()
    assert consumer.committed == [{PARTITION: 13}]
    labels = {"group": "funding.lag", "topic": TOPIC, "partition": "3"}
    assert REGISTRY.get_sample_value("clearway_consumer_lag_messages", labels) == 50 - 13
