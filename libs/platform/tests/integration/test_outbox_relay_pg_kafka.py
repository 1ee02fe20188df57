"""Outbox, relay, inbox, replay and migrations against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import murmur2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import MissingAttributeError
from clearway.devstack.testing import wait_until
from clearway.platform.db import UnitOfWork, libpq_url
from clearway.platform.inbox import record_once
from clearway.platform.kafka import KafkaPublisher, ensure_topics
from clearway.platform.migrations import ensure_database_exists, upgrade_database
from clearway.platform.outbox import OutboxMessage, add_event
from clearway.platform.relay import OutboxRelay
from clearway.platform.replay import replay_events
from clearway.platform.tables import inbox, outbox

pytestmark = pytest.mark.integration

PARTITIONS = 3
SOURCE = "clearway.test"


async def read_topic(
    bootstrap_servers: str, topic: str, *, expected: int, partitions: int = PARTITIONS, quiet_ms: int = 700
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic`: waits for `expected`, then a quiet spell to catch any extras."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign([TopicPartition(topic, partition) for partition in range(partitions)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + 15
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100)
            fetched = [record for batch in batches.values() for record in batch]
            records.extend(fetched)
            if fetched:
                quiet_since = time.monotonic()
            elif len(records) >= expected and time.monotonic() - quiet_since > quiet_ms / 1000:
                break
    finally:
        await consumer.stop()
    return records


def murmur2_partition(key: bytes | None, partitions: int) -> int:
    """The partition every Kafka client's default partitioner gives a key (the Java client's rule)."""
    assert key is not None
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def event_ids(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
    return [dict(record.headers)["ce_id"].decode() for record in records]


@pytest.fixture
async def topic(kafka_bootstrap_servers: str, unique_topic: Callable[[str], str]) -> str:
    name = unique_topic("payable.created")
    await ensure_topics(kafka_bootstrap_servers, [(name, PARTITIONS)])
    return name


async def add_events(
    session_factory: async_sessionmaker[AsyncSession], topic: str, count: int, keys: int = 5, padding: str = ""
) -> list[str]:
    async with UnitOfWork(session_factory) as uow:
        ids = [
            await add_event(
                uow.session,
                topic=topic,
                key=f"pay_{n % keys}",
                event_type=topic,
                payload={"n": n, "padding": padding} if padding else {"n": n},
                source=SOURCE,
            )
            for n in range(count)
        ]
        await uow.commit()
    return ids


async def run_until_all_published(engine: AsyncEngine, relays: Sequence[OutboxRelay]) -> None:
    """Run `relays` side by side until no row is unpublished, then stop them."""
    stop = asyncio.Event()
    runs = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        await wait_until(all_published(engine), "every row is published", timeout_s=20, interval_s=0.01)
    finally:
        stop.set()
        await asyncio.gather(*runs)


def all_published(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await unpublished(engine) == 0

    return check


async def unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
    return int(count or 0)


async def test_rolled_back_events_are_never_published(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], publisher: KafkaPublisher, topic: str
) -> None:
    async with UnitOfWork(session_factory) as uow:
        await add_event(uow.session, topic=topic, key="pay_1", event_type=topic, payload={}, source=SOURCE)
        # no commit: leaving the block rolls back
    assert await OutboxRelay(engine, publisher, listen=False).run_once() == 0
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(outbox)) == 0


async def test_committed_event_is_published_in_binary_mode_and_kept(
    kafka_bootstrap_servers: str,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    publisher: KafkaPublisher,
    topic: str,
) -> None:
    async with UnitOfWork(session_factory) as uow:
        event_id = await add_event(
            uow.session,
            topic=topic,
            key="pay_1",
            event_type=topic,
            payload={"payable_id": "pay_1", "amount_minor": 1500},
            subject="pay_1",
            source=SOURCE,
        )
        await uow.commit()
    assert await OutboxRelay(engine, publisher, listen=False).run_once() == 1

    [published] = await read_topic(kafka_bootstrap_servers, topic, expected=1, quiet_ms=0)
    headers = dict(published.headers)
    assert headers["ce_id"] == event_id.encode()
    assert headers["ce_type"] == topic.encode()
    assert headers["ce_source"] == SOURCE.encode()
    assert headers["ce_subject"] == b"pay_1"
    assert headers["ce_correlationid"] == event_id.encode()
    assert headers["content-type"] == b"application/json"
    decoded = cloudevents.decode(published.headers)
    assert (decoded.id, decoded.type, decoded.subject, decoded.causationid) == (event_id, topic, "pay_1", None)
    assert published.key == b"pay_1"
    assert orjson.loads(published.value) == {"payable_id": "pay_1", "amount_minor": 1500}
    async with engine.connect() as connection:
        row = (await connection.execute(select(outbox))).one()
    assert row.published_at is not None and row.attempts == 0


class CrashAfterPublish:
    """Publishes for real, then fails as if the relay died before marking the rows."""

    def __init__(self, publisher: KafkaPublisher) -> None:
        self.publisher = publisher

    async def send_batch(self, messages: Sequence[OutboxMessage]) -> None:
        await self.publisher.send_batch(messages)
        raise ConnectionError("relay crashed before marking")


async def test_crash_between_publish_and_mark_republishes_and_inbox_absorbs_the_duplicate(
    kafka_bootstrap_servers: str,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    publisher: KafkaPublisher,
    topic: str,
) -> None:
    [event_id] = await add_events(session_factory, topic, 1)
    with pytest.raises(ConnectionError):
        await OutboxRelay(engine, CrashAfterPublish(publisher), listen=False).run_once()
    async with engine.connect() as connection:
        row = (await connection.execute(select(outbox))).one()
    assert row.published_at is None and row.attempts == 1 and "relay crashed" in row.last_error

    assert await OutboxRelay(engine, publisher, listen=False).run_once() == 1
    records = await read_topic(kafka_bootstrap_servers, topic, expected=2)
    assert event_ids(records) == [event_id, event_id]

    effects = 0
    for record in records:
        async with UnitOfWork(session_factory) as uow:
            if await record_once(uow.session, "test-consumer", event_ids([record])[0], record.topic):
                effects += 1
            await uow.commit()
    assert effects == 1


async def test_three_concurrent_relays_publish_each_event_exactly_once_in_key_order(
    kafka_bootstrap_servers: str,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    publisher: KafkaPublisher,
    topic: str,
) -> None:
    ids: list[str] = []
    for _ in range(4):
        ids += await add_events(session_factory, topic, 30)
    await run_until_all_published(
        engine, [OutboxRelay(engine, publisher, poll_interval_ms=20, batch_size_max=25) for _ in range(3)]
    )

    records = await read_topic(kafka_bootstrap_servers, topic, expected=len(ids))
    assert sorted(event_ids(records)) == sorted(ids)
    # Per key, the partition holds the events in the order they were written.
    for key in {record.key for record in records}:
        per_key_ids = [event_ids([record])[0] for record in records if record.key == key]
        assert per_key_ids == [event_id for event_id in ids if event_id in set(per_key_ids)]


async def test_a_relay_batch_larger_than_a_kafka_batch_keeps_each_keys_order_and_the_keys_partition(
    kafka_bootstrap_servers: str,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    publisher: KafkaPublisher,
    topic: str,
) -> None:
    # The publisher fills one Kafka batch per partition (16 kB) and starts another when it is full:
    # 2 kB payloads on 3 keys fill several batches per partition within one relay batch of 200.
    ids = await add_events(session_factory, topic, 200, keys=3, padding="x" * 2_000)
    await run_until_all_published(engine, [OutboxRelay(engine, publisher, poll_interval_ms=20, batch_size_max=200)])

    records = await read_topic(kafka_bootstrap_servers, topic, expected=len(ids))
    assert sorted(event_ids(records)) == sorted(ids)
    for key in {record.key for record in records}:
        per_key = [record for record in records if record.key == key]
        # One partition per key, the one Kafka's default partitioner (murmur2, as every client) picks.
        assert {record.partition for record in per_key} == {murmur2_partition(key, PARTITIONS)}
        per_key_ids = event_ids(per_key)
        assert per_key_ids == [event_id for event_id in ids if event_id in set(per_key_ids)]


async def test_a_message_larger_than_a_produce_request_is_refused_in_the_client(
    kafka_bootstrap_servers: str, publisher: KafkaPublisher, topic: str
) -> None:
    # As `send()` refused it: before the broker, with Kafka's own error. The record batched before it
    # was not handed over yet, so nothing of the refused relay batch reaches the topic (the relay
    # then records the failure and retries the batch).
    def message(number: int, value: bytes) -> OutboxMessage:
        return OutboxMessage(
            id=number, event_id=f"evt-{number}", topic=topic, key="k", event_type=topic, headers=[], value=value
        )

    with pytest.raises(MessageSizeTooLargeError):
        await publisher.send_batch([message(1, b'{"n": 1}'), message(2, b"x" * 2_000_000)])
    assert await read_topic(kafka_bootstrap_servers, topic, expected=0, quiet_ms=500) == []
    await publisher.send_batch([message(3, b'{"n": 3}')])  # the publisher still works
    [delivered] = await read_topic(kafka_bootstrap_servers, topic, expected=1, quiet_ms=300)
    assert delivered.value == b'{"n": 3}'


async def test_notification_wakes_the_relay_long_before_the_next_poll(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], publisher: KafkaPublisher, topic: str
) -> None:
    stop = asyncio.Event()
    relay = OutboxRelay(engine, publisher, poll_interval_ms=30_000)
    run = asyncio.create_task(relay.run(stop))
    try:
        await wait_until_listening(relay)
        await asyncio.sleep(0.1)  # let the first (empty) round finish and start its long wait
        started = time.monotonic()
        await add_events(session_factory, topic, 1)
        await wait_until(all_published(engine), "every row is published", timeout_s=5, interval_s=0.01)
        assert time.monotonic() - started < 2

        # The listener reconnects after losing its connection, and wake-ups keep working.
        await terminate_listener(engine)
        await asyncio.sleep(0.2)
        await wait_until_listening(relay)
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await add_events(session_factory, topic, 1)
        await wait_until(all_published(engine), "every row is published", timeout_s=5, interval_s=0.01)
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        await run


async def wait_until_listening(relay: OutboxRelay) -> None:
    async def listening() -> bool:
        return relay.listening

    await wait_until(listening, "the relay listens", timeout_s=10, interval_s=0.01)


async def terminate_listener(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        terminated = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        )
    assert terminated == 1


async def test_replay_requeues_published_events(
    kafka_bootstrap_servers: str,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    publisher: KafkaPublisher,
    topic: str,
) -> None:
    ids = await add_events(session_factory, topic, 3)
    relay = OutboxRelay(engine, publisher, listen=False)
    assert await relay.run_once() == 3
    assert await replay_events(engine, topic=topic, dry_run=True) == 3
    assert await unpublished(engine) == 0
    assert await replay_events(engine, event_id=ids[1]) == 1
    assert await replay_events(engine, event_id=ids[1]) == 0  # already queued
    assert await relay.run_once() == 1
    records = await read_topic(kafka_bootstrap_servers, topic, expected=4)
    assert sorted(event_ids(records)) == sorted([*ids, ids[1]])


async def insert_stored_row(engine: AsyncEngine, topic: str, headers: dict[str, object]) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            outbox.insert().values(
                event_id=str(headers["id"]), topic=topic, message_key="k", event_type=topic, headers=headers, payload={}
            )
        )


async def test_a_row_stored_before_the_codec_is_published_in_its_shape(
    kafka_bootstrap_servers: str, engine: AsyncEngine, publisher: KafkaPublisher, topic: str
) -> None:
    # The ledger's shape before the codec: an offset, a null extension, the content type by name.
    await insert_stored_row(
        engine,
        topic,
        {
            "id": "evt_before_codec",
            "source": "clearway.ledger",
            "type": topic,
            "specversion": "1.0",
            "time": "2025-03-01T15:00:00+03:00",
            "causationid": None,
            "datacontenttype": "application/json",
        },
    )
    assert await OutboxRelay(engine, publisher, listen=False).run_once() == 1
    [published] = await read_topic(kafka_bootstrap_servers, topic, expected=1, quiet_ms=0)
    headers = dict(published.headers)
    assert headers["ce_time"] == b"2025-03-01T12:00:00Z"
    assert "ce_causationid" not in headers and "ce_datacontenttype" not in headers
    assert cloudevents.decode(published.headers).id == "evt_before_codec"


async def test_an_unreadable_stored_row_is_recorded_as_a_failure_and_nothing_is_published(
    engine: AsyncEngine, publisher: KafkaPublisher, topic: str
) -> None:
    await insert_stored_row(
        engine, topic, {"id": "evt_without_time", "source": "s", "type": topic, "specversion": "1.0"}
    )
    with pytest.raises(MissingAttributeError):
        await OutboxRelay(engine, publisher, listen=False).run_once()
    async with engine.connect() as connection:
        row = (await connection.execute(select(outbox))).one()
    assert row.published_at is None and row.attempts == 1 and "time" in row.last_error


async def test_inbox_records_each_event_once_per_consumer(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWork(session_factory) as uow:
        assert await record_once(uow.session, "ledger", "evt_1", "t")
        # rolled back: the event was not handled after all
    async with UnitOfWork(session_factory) as uow:
        assert await record_once(uow.session, "ledger", "evt_1", "t")
        assert await record_once(uow.session, "payout", "evt_1", "t")  # another consumer
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        assert not await record_once(uow.session, "ledger", "evt_1", "t")


async def test_concurrent_deliveries_of_one_event_have_one_effect(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    first_recorded = asyncio.Event()

    async def first() -> bool:
        async with UnitOfWork(session_factory) as uow:
            recorded = await record_once(uow.session, "ledger", "evt_2", "t")
            first_recorded.set()
            await asyncio.sleep(0.3)  # the second delivery waits on this uncommitted row
            await uow.commit()
            return recorded

    async def second() -> bool:
        await first_recorded.wait()
        async with UnitOfWork(session_factory) as uow:
            recorded = await record_once(uow.session, "ledger", "evt_2", "t")
            await uow.commit()
            return recorded

    assert list(await asyncio.gather(first(), second())) == [True, False]


async def test_alembic_upgrade_creates_platform_tables_from_inside_the_loop(
    tmp_path: Path, postgres_server_url: str, make_database: Callable[[str], Awaitable[str]]
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text("from clearway.platform.migrations import run_alembic_env\nrun_alembic_env()\n")
    (tmp_path / "script.py.mako").write_text("")
    (tmp_path / "versions" / "0001_platform.py").write_text(
        "from alembic import op\n"
        "from clearway.platform.migrations import create_platform_tables, drop_platform_tables\n"
        "revision = '0001'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade() -> None:\n    create_platform_tables(op)\n"
        "def downgrade() -> None:\n    drop_platform_tables(op)\n"
    )
    database_url = await make_database("migrate")
    upgrade_database(tmp_path, database_url)
    upgrade_database(tmp_path, database_url)  # already at head: nothing to do
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        tables = {row["tablename"] for row in await connection.fetch("SELECT tablename FROM pg_tables")}
        assert {"outbox", "inbox", "alembic_version"} <= tables
        assert {inbox.name, outbox.name} <= tables
        indexes = await connection.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'outbox'")
        assert any("WHERE (published_at IS NULL)" in row["indexdef"] for row in indexes)
    finally:
        await connection.close()


async def test_ensure_database_exists_creates_once(postgres_server_url: str) -> None:
    name = f"t_ensure_{time.time_ns()}"
    try:
        assert await ensure_database_exists(postgres_server_url, name)
        assert not await ensure_database_exists(postgres_server_url, name)
    finally:
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await connection.close()
