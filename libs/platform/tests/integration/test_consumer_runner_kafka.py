"""The consumer runner against the real broker: retries, dead letters and commit-after-handle."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.devstack.testing import wait_until
from clearway.platform.consumer import (
    DLQ_ATTEMPTS_HEADER,
    DLQ_OFFSET_HEADER,
    DLQ_REASON_HEADER,
    DLQ_TOPIC_HEADER,
    ConsumerRunner,
    IncomingEvent,
)
from clearway.platform.context import correlation_id_var
from clearway.platform.kafka import dlq_topic, ensure_topics
from clearway.platform.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(kafka_bootstrap_servers: str, unique_topic: Callable[[str], str]) -> str:
    name = unique_topic("transfer.created")
    await ensure_topics(kafka_bootstrap_servers, [(name, 1)])  # one partition: order is observable
    return name


@pytest.fixture
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka_producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await kafka_producer.start()
    yield kafka_producer
    await kafka_producer.stop()


def runner_for(bootstrap_servers: str, **overrides: int) -> ConsumerRunner:
    settings = ServiceSettings(
        service_name="test", kafka_bootstrap_servers=bootstrap_servers, consumer_retry_backoff_ms=10
    )
    options = {"retry_attempts_max": 3, **overrides}
    return ConsumerRunner.from_settings(settings, **options)


async def send(producer: AIOKafkaProducer, topic: str, name: str, *, event_id: str | None = None) -> str:
    event_id = event_id or f"evt_{name}_{uuid.uuid4().hex[:6]}"
    attributes = EventAttributes(id=event_id, source="test", type=topic, time=datetime.now(UTC))
    await producer.send_and_wait(
        topic, orjson.dumps({"name": name}), key=b"acc_1", headers=cloudevents.encode(attributes)
    )
    return event_id


async def read_all(bootstrap_servers: str, topic: str, expected: int) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + 10
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100)
            records.extend(record for batch in batches.values() for record in batch)
    finally:
        await consumer.stop()
    return records


async def test_failing_handler_is_retried_until_it_succeeds(
    kafka_bootstrap_servers: str, producer: AIOKafkaProducer, topic: str
) -> None:
    calls: list[str] = []
    correlations: list[str | None] = []

    async def flaky(event: IncomingEvent) -> None:
        calls.append(event.id)
        correlations.append(correlation_id_var.get())
        if len(calls) < 3:
            raise RuntimeError("database busy")

    runner = runner_for(kafka_bootstrap_servers)
    runner.add(topic, f"g-{topic}", flaky)
    await runner.start()
    try:
        event_id = await send(producer, topic, "a")
        await wait_until(lambda: len(calls) == 3, "the handler was called three times", timeout_s=20, interval_s=0.02)
        await asyncio.sleep(0.2)
        assert calls == [event_id] * 3
        assert correlations == [event_id] * 3
        assert runner.healthy()
    finally:
        await runner.stop()
    assert not runner.healthy()


async def test_poison_message_is_dead_lettered_and_the_partition_moves_on(
    kafka_bootstrap_servers: str, producer: AIOKafkaProducer, topic: str
) -> None:
    handled: list[str] = []

    async def handler(event: IncomingEvent) -> None:
        if event.payload["name"] == "poison":
            raise ValueError("cannot apply this")
        handled.append(event.payload["name"])

    runner = runner_for(kafka_bootstrap_servers)
    runner.add(topic, f"g-{topic}", handler)
    await runner.start()
    try:
        await send(producer, topic, "before")
        poison_id = await send(producer, topic, "poison")
        await producer.send_and_wait(topic, b"\x00not json", key=b"acc_1")
        await send(producer, topic, "after")
        await producer.send_and_wait(topic, orjson.dumps({"name": "no-headers"}))  # no ce_* at all
        await wait_until(lambda: len(handled) == 3, "three records are handled", timeout_s=20, interval_s=0.02)
        assert handled == ["before", "after", "no-headers"]
    finally:
        await runner.stop()

    poison, undecodable = await read_all(kafka_bootstrap_servers, dlq_topic(topic), expected=2)
    poison_headers = dict(poison.headers)
    assert poison_headers["ce_id"] == poison_id.encode()
    assert poison.key == b"acc_1" and orjson.loads(poison.value) == {"name": "poison"}
    assert poison_headers[DLQ_REASON_HEADER] == b"ValueError: cannot apply this"
    assert poison_headers[DLQ_ATTEMPTS_HEADER] == b"3"
    assert poison_headers[DLQ_TOPIC_HEADER] == topic.encode()
    assert poison_headers[DLQ_OFFSET_HEADER] == b"1"
    assert undecodable.value == b"\x00not json"
    assert dict(undecodable.headers)[DLQ_ATTEMPTS_HEADER] == b"0"


async def test_offsets_are_committed_only_after_the_handler_finishes(
    kafka_bootstrap_servers: str, producer: AIOKafkaProducer, topic: str
) -> None:
    group_id = f"g-{topic}"
    first_run: list[str] = []
    second_run: list[str] = []

    async def stuck_on_second(event: IncomingEvent) -> None:
        first_run.append(event.payload["name"])
        if event.payload["name"] == "second":
            raise RuntimeError("not yet")  # backs off for a long time; stop() interrupts it

    runner = runner_for(kafka_bootstrap_servers, retry_backoff_ms=5_000)
    runner.add(topic, group_id, stuck_on_second)
    await runner.start()
    try:
        await send(producer, topic, "first")
        await send(producer, topic, "second")
        await wait_until(
            lambda: first_run == ["first", "second"],
            "the first run handled both records",
            timeout_s=20,
            interval_s=0.02,
        )
    finally:
        started = time.monotonic()
        await runner.stop()
    assert time.monotonic() - started < 3, "stop() should not wait out the back-off"

    async def records_names(event: IncomingEvent) -> None:
        second_run.append(event.payload["name"])

    restarted = runner_for(kafka_bootstrap_servers)
    restarted.add(topic, group_id, records_names)
    await restarted.start()
    try:
        await send(producer, topic, "third")
        await wait_until(
            lambda: len(second_run) == 2, "the second run handled two records", timeout_s=20, interval_s=0.02
        )
        await asyncio.sleep(0.3)
        # "first" was acknowledged and is not redelivered; "second" never finished and is.
        assert second_run == ["second", "third"]
    finally:
        await restarted.stop()


async def test_batch_handler_falls_back_to_single_records_when_a_batch_fails(
    kafka_bootstrap_servers: str, producer: AIOKafkaProducer, topic: str
) -> None:
    batch_sizes: list[int] = []
    handled: list[str] = []

    async def batch_handler(events: Sequence[IncomingEvent]) -> None:
        batch_sizes.append(len(events))
        names = [event.payload["name"] for event in events]
        if "poison" in names:
            raise ValueError("one bad event spoils the batch transaction")
        handled.extend(names)

    for name in ("a", "b", "poison", "c"):
        await send(producer, topic, name)
    runner = runner_for(kafka_bootstrap_servers)
    runner.add_batch(topic, f"g-{topic}", batch_handler)
    await runner.start()
    try:
        await wait_until(
            lambda: handled == ["a", "b", "c"], "a, b and c are handled in order", timeout_s=20, interval_s=0.02
        )
        assert batch_sizes == [4, 1, 1, 1, 1, 1, 1]  # the batch, then a, b, poison x3, c
        await send(producer, topic, "d")
        await wait_until(
            lambda: handled == ["a", "b", "c", "d"], "d is handled after them", timeout_s=20, interval_s=0.02
        )
    finally:
        await runner.stop()
    [poison] = await read_all(kafka_bootstrap_servers, dlq_topic(topic), expected=1)
    assert orjson.loads(poison.value) == {"name": "poison"}
