"""Kafka adapter: the outbox publisher, record encoding and topic creation.

Records are CloudEvents in binary mode: each attribute in a `ce_<name>` header (written and read by
`clearway.contracts.cloudevents`, the one codec) and the JSON body in the record value, so
processors outside the platform can produce and read events with any client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import MessageSizeTooLargeError, TopicAlreadyExistsError, for_code
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import HeadersInput
from clearway.platform.outbox import OutboxMessage

logger = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"
# Most replicas a created topic asks for; fewer when the cluster has fewer brokers.
REPLICATION_FACTOR_MAX = 3
PRODUCER_LINGER_MS = 5
PRODUCE_REQUEST_BYTES_MAX = 1_048_576  # aiokafka's and Kafka's default; stated because send_batch checks it


def dlq_topic(topic: str) -> str:
    assert not topic.endswith(DLQ_SUFFIX), f"a dead-letter topic has no dead-letter topic: {topic}"
    return f"{topic}{DLQ_SUFFIX}"


def decode_headers(headers: HeadersInput) -> dict[str, str]:
    """Kafka headers -> CloudEvents attribute strings, tolerantly (`cloudevents.read_attribute_strings`).

    Kept under this name for code and documents that know the consumer's decoder by it.
    """
    return cloudevents.read_attribute_strings(headers)


def encode_key(key: str | None) -> bytes | None:
    return key.encode("utf-8") if key is not None else None


class KafkaPublisher:
    """Publishes outbox batches; `send_batch` returns only when every record is acknowledged."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        enable_idempotence: bool = False,
        client_id: str = "clearway-outbox",
        linger_ms: int = PRODUCER_LINGER_MS,
        request_timeout_ms: int = 30_000,
    ) -> None:
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            # A record counts as published only once every in-sync replica has it.
            "acks": "all",
            "enable_idempotence": enable_idempotence,
            "linger_ms": linger_ms,
            "request_timeout_ms": request_timeout_ms,
            "max_request_size": PRODUCE_REQUEST_BYTES_MAX,
        }
        # aiokafka clients bind to the running loop when built, so the producer is built in start().
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()

    async def start(self) -> None:
        assert self._producer is None, "start() called twice"
        self._producer = AIOKafkaProducer(**self._options)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send_batch(self, messages: Sequence[OutboxMessage]) -> None:
        """Every message, each partition's in the given order; returns once all are acknowledged.

        Records are appended to one batch per partition (`create_batch`/`send_batch`) instead of
        going through `send` one at a time: a future, a metadata wait and an accumulator lookup per
        record were a tenth of a posting process's CPU. What `send` checks is kept: the partition it
        would pick (the default partitioner: murmur2 of the key; a keyless record one whose leader is
        available) and its refusal of a record larger than a request. A failure is raised only after
        no record is still in flight.
        """
        producer = self._producer
        assert producer is not None, "send_batch() before start()"
        open_batches: dict[tuple[str, int], BatchBuilder] = {}
        deliveries: list[asyncio.Future[Any]] = []
        try:
            partitions_of: dict[str, list[int]] = {}
            for message in messages:
                key = encode_key(message.key)
                if (
                    DefaultRecordBatchBuilder.estimate_size_in_bytes(key, message.value, message.headers)
                    > PRODUCE_REQUEST_BYTES_MAX
                ):
                    raise MessageSizeTooLargeError(f"outbox message {message.id} is larger than a produce request")
                partitions = partitions_of.get(message.topic)
                if partitions is None:
                    partitions = partitions_of[message.topic] = sorted(await producer.partitions_for(message.topic))
                available = partitions if key is not None else self._available_partitions(message.topic, partitions)
                partition = self._partitioner(key, partitions, available)
                batch = open_batches.get((message.topic, partition))
                if (
                    batch is None
                    or batch.append(timestamp=None, key=key, value=message.value, headers=message.headers) is None
                ):
                    if batch is not None:  # full: it goes now, and a new one starts with this record
                        deliveries.append(await producer.send_batch(batch, message.topic, partition=partition))
                    batch = open_batches[(message.topic, partition)] = producer.create_batch()
                    # A batch's first record always fits (one larger than a batch goes alone).
                    batch.append(timestamp=None, key=key, value=message.value, headers=message.headers)
            for (topic, partition), batch in open_batches.items():
                deliveries.append(await producer.send_batch(batch, topic, partition=partition))
        except BaseException:
            # What was already handed over finishes (or fails) before the caller hears of the failure.
            await asyncio.gather(*deliveries, return_exceptions=True)
            raise
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _available_partitions(self, topic: str, partitions: list[int]) -> list[int]:
        assert self._producer is not None
        available = self._producer.client.cluster.available_partitions_for_topic(topic)
        return sorted(available) if available else partitions


async def ensure_topics(
    bootstrap_servers: str,
    specs: Sequence[tuple[str, int]],
    *,
    with_dlq: bool = True,
    replication_factor: int | None = None,
) -> None:
    """Create `(name, partitions)` topics, and each one's `<name>.dlq`, unless they exist.

    Existing topics are left as they are (partition counts are not changed).
    """
    wanted: dict[str, int] = {}
    for name, partitions in specs:
        assert partitions >= 1, f"topic {name} needs at least one partition"
        wanted[name] = partitions
        if with_dlq and not name.endswith(DLQ_SUFFIX):
            wanted.setdefault(dlq_topic(name), partitions)
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="clearway-admin")
    await admin.start()
    try:
        if replication_factor is None:
            cluster = await admin.describe_cluster()
            replication_factor = min(REPLICATION_FACTOR_MAX, len(cluster["brokers"]))
        assert replication_factor >= 1
        response = await admin.create_topics(
            [NewTopic(name, partitions, replication_factor) for name, partitions in wanted.items()]
        )
        for topic_error in response.to_object()["topic_errors"]:
            error_code = topic_error["error_code"]
            if error_code in (0, TopicAlreadyExistsError.errno):
                continue
            error_type = for_code(error_code)
            raise error_type(f"creating topic {topic_error['topic']}: {topic_error.get('error_message')}")
    finally:
        await admin.close()
    logger.info("topics ensured", extra={"topics": sorted(wanted)})
