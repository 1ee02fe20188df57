"""The embedded stack: PostgreSQL from the wheel and the Tansu broker, started for real."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from clearway.devstack.broker import EmbeddedBroker, answers_metadata_request
from clearway.devstack.ports import find_free_port, is_port_open
from clearway.devstack.postgres import EmbeddedPostgres
from clearway.devstack.topics import TopicToCreate, create_topics

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root the PostgreSQL user must traverse every parent directory,
    # and we would rather widen a private /tmp dir than pytest's base directory.
    path = Path(tempfile.mkdtemp(prefix="clearway-devstack-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _fetch_rows(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [row["note"] for row in await connection.fetch("SELECT note FROM notes ORDER BY note")]
    finally:
        await connection.close()


async def test_embedded_postgres_starts_stops_and_restarts_on_the_same_data_dir(scratch_dir: Path) -> None:
    server = EmbeddedPostgres(scratch_dir / "pgdata", find_free_port(), test_mode=True)
    server.start()
    try:
        assert server.is_running()
        connection = await asyncpg.connect(server.url)
        try:
            assert await connection.fetchval("SELECT 1") == 1
            assert await connection.fetchval("SHOW max_connections") == "300"
            await connection.execute("CREATE TABLE notes (note text); INSERT INTO notes VALUES ('kept')")
        finally:
            await connection.close()
    finally:
        server.stop()
    assert not server.is_running()
    assert not is_port_open(server.port)

    restarted = EmbeddedPostgres(scratch_dir / "pgdata", server.port)
    restarted.start()
    try:
        assert await _fetch_rows(restarted.url) == ["kept"]
    finally:
        restarted.stop()
    assert not restarted.is_running()


async def test_embedded_postgres_reuses_a_server_already_running_for_its_data_dir(scratch_dir: Path) -> None:
    first = EmbeddedPostgres(scratch_dir / "pgdata", find_free_port(), test_mode=True)
    first.start()
    try:
        second = EmbeddedPostgres(scratch_dir / "pgdata", first.port, test_mode=True)
        second.start()  # finds the live postmaster and keeps it
        connection = await asyncpg.connect(second.url)
        await connection.close()
        second.stop()  # pg_ctl stops a postmaster regardless of who started it
        assert not first.is_running()
    finally:
        first.stop()


async def test_embedded_broker_creates_topics_produces_consumes_and_stops_cleanly(scratch_dir: Path) -> None:
    broker = EmbeddedBroker(find_free_port(), scratch_dir / "broker.log")
    broker.start()
    pid = broker.pid
    assert pid is not None
    try:
        topic = f"devstack.checked.{uuid.uuid4().hex[:8]}"
        created = await create_topics(broker.bootstrap, [TopicToCreate(topic, 3)])
        assert created == [topic]
        assert await create_topics(broker.bootstrap, [TopicToCreate(topic, 3)]) == []  # idempotent

        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            for index in range(3):
                await producer.send_and_wait(topic, f"message-{index}".encode(), key=b"same-key")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=broker.bootstrap,
            group_id=f"devstack-test-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            session_timeout_ms=6_000,
            heartbeat_interval_ms=500,
        )
        await consumer.start()
        try:
            received: list[bytes] = []
            for _ in range(40):  # bounded: 40 polls of at most 0.5 s
                batches = await consumer.getmany(timeout_ms=500)
                received += [record.value for records in batches.values() for record in records if record.value]
                if len(received) >= 3:
                    break
        finally:
            await consumer.stop()
        assert received == [b"message-0", b"message-1", b"message-2"]  # one key: one partition, in order
    finally:
        broker.stop()
    assert not broker.is_running()
    assert not psutil.pid_exists(pid)
    assert not answers_metadata_request("127.0.0.1", broker.port)


def test_metadata_probe_is_false_when_nothing_listens() -> None:
    assert not answers_metadata_request("127.0.0.1", find_free_port(), timeout_s=0.2)


async def test_session_fixtures_provide_a_database_and_a_broker(
    make_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str
) -> None:
    database_url = await make_database("devstack")
    assert database_url.startswith("postgresql+asyncpg://")
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        assert await connection.fetchval("SELECT current_database()") == database_url.rsplit("/", 1)[1]
    finally:
        await connection.close()
    host, port = kafka_bootstrap_servers.rsplit(":", 1)
    assert answers_metadata_request(host, int(port))
