"""The outbox relay in a process of its own, against real PostgreSQL and the real broker: it publishes,
reports to the service's metrics, is restarted when it dies, and never outlives the service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clearway.devstack.testing import wait_until
from clearway.platform.kafka import ensure_topics
from clearway.platform.relay import RelayConfig, RelayMetrics
from clearway.platform.relay_process import RELAY_CONFIG_ENV, OutboxRelayProcess
from clearway.platform.runtime import ServiceRuntime
from clearway.platform.settings import ServiceSettings

from .test_outbox_relay_pg_kafka import add_events, all_published, event_ids, read_topic

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc"),
]

# The service side, alone in a process the test can kill: it starts the relay process and prints its pid.
SERVICE_SCRIPT = f"""
import asyncio, os
from clearway.platform.relay import RelayConfig, RelayMetrics
from clearway.platform.relay_process import OutboxRelayProcess

async def main():
    process = OutboxRelayProcess(RelayConfig.from_json(os.environ["{RELAY_CONFIG_ENV}"]), RelayMetrics("killed"))
    run = asyncio.create_task(process.run(asyncio.Event()))
    while process.pid is None:
        await asyncio.sleep(0.01)
    print(process.pid, flush=True)
    await run

asyncio.run(main())
"""


@pytest.fixture
async def topic(kafka_bootstrap_servers: str, unique_topic: Callable[[str], str]) -> str:
    name = unique_topic("ledger.transaction.applied")
    await ensure_topics(kafka_bootstrap_servers, [(name, 1)])
    return name


def relay_config(engine: AsyncEngine, kafka_bootstrap_servers: str, service_name: str) -> RelayConfig:
    return RelayConfig(
        service_name=service_name,
        database_url=engine.url.render_as_string(hide_password=False),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_enable_idempotence=False,
        poll_interval_ms=50,
        batch_size_max=100,
        log_level="WARNING",
        log_json=True,
    )


def running(pid: int) -> bool:
    """Alive and not a zombie: an orphan's exit may wait for a reaper that a container does not run."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def command_line_of(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def published_metric(service_name: str, topic: str) -> float:
    return (
        REGISTRY.get_sample_value("clearway_outbox_published_total", {"service": service_name, "topic": topic}) or 0.0
    )


def lag_metric(service_name: str) -> float | None:
    return REGISTRY.get_sample_value("clearway_outbox_lag_seconds", {"service": service_name})


async def test_a_relay_process_publishes_the_outbox_and_the_service_counts_it(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], topic: str, kafka_bootstrap_servers: str
) -> None:
    config = relay_config(engine, kafka_bootstrap_servers, "relay-process-publishes")
    ids = await add_events(session_factory, topic, 250)  # three batches of at most 100
    relay_process = OutboxRelayProcess(config, RelayMetrics(config.service_name))
    stop = asyncio.Event()
    run = asyncio.create_task(relay_process.run(stop))
    try:
        await wait_until(all_published(engine), "every row is published", timeout_s=30, interval_s=0.05)
        await wait_until(lambda: published_metric(config.service_name, topic) == 250, "the service counted 250")
        # The lag it shows is the child's: the rows waited for the child to start, then a claim found none.
        await wait_until(lambda: lag_metric(config.service_name) == 0.0, "the service shows no lag")
        assert relay_process.pid is not None
        child = relay_process.pid
        command_line = command_line_of(child)
        assert command_line.split(b"\0")[1:3] == [b"-m", b"clearway.platform.relay_process"]
        assert b"postgresql" not in command_line  # the database URL travels in the environment
    finally:
        stop.set()
        await asyncio.wait_for(run, 20)
    assert not running(child)
    assert (relay_process.starts, relay_process.pid) == (1, None)
    records = await read_topic(kafka_bootstrap_servers, topic, expected=250, partitions=1)
    assert event_ids(records) == ids  # once each, in outbox order


async def test_a_relay_process_that_dies_is_restarted_and_publishes_what_came_meanwhile(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], topic: str, kafka_bootstrap_servers: str
) -> None:
    relay_process = OutboxRelayProcess(
        relay_config(engine, kafka_bootstrap_servers, "relay-process-restarts"), RelayMetrics("x")
    )
    stop = asyncio.Event()
    run = asyncio.create_task(relay_process.run(stop))
    try:
        first = await add_events(session_factory, topic, 10)
        await wait_until(all_published(engine), "the first rows are published", timeout_s=30, interval_s=0.05)
        assert relay_process.pid is not None
        os.kill(relay_process.pid, signal.SIGKILL)
        second = await add_events(session_factory, topic, 10)
        await wait_until(lambda: relay_process.starts >= 2, "a second child started", timeout_s=15)
        await wait_until(all_published(engine), "the rows added meanwhile are published", timeout_s=30, interval_s=0.05)
    finally:
        stop.set()
        await asyncio.wait_for(run, 20)
    records = await read_topic(kafka_bootstrap_servers, topic, expected=20, partitions=1)
    assert event_ids(records) == first + second


async def test_a_relay_process_stops_when_its_service_is_killed(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], topic: str, kafka_bootstrap_servers: str
) -> None:
    config = relay_config(engine, kafka_bootstrap_servers, "killed")
    # The script is the test's own (above); the configuration goes in the environment as the service's does.
    service = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVICE_SCRIPT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, RELAY_CONFIG_ENV: config.to_json()},
    )
    assert service.stdout is not None
    child = int(await asyncio.wait_for(service.stdout.readline(), 30))
    await add_events(session_factory, topic, 3)  # a child that publishes: not one that died at start
    await wait_until(all_published(engine), "the child publishes", timeout_s=30, interval_s=0.05)
    assert running(child)
    service.kill()  # SIGKILL: no handler runs, the kernel closes the service's end of the child's stdin
    await service.wait()
    await wait_until(lambda: not running(child), "the relay process exited with its service", timeout_s=15)


async def test_a_service_runtime_set_to_publish_from_a_child_process_does(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], topic: str, kafka_bootstrap_servers: str
) -> None:
    settings = ServiceSettings(
        service_name="relay-runtime",
        database_url=engine.url.render_as_string(hide_password=False),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        outbox_poll_interval_ms=50,
        outbox_relay_process=True,
    )
    runtime = ServiceRuntime(settings)
    await runtime.start()
    try:
        assert runtime.relay_process is not None and runtime.publisher is None  # nothing publishes in-process
        ids = await add_events(session_factory, topic, 5)
        await wait_until(all_published(engine), "every row is published", timeout_s=30, interval_s=0.05)
        child = runtime.relay_process.pid
        assert child is not None and child != os.getpid()
    finally:
        await runtime.stop()
    assert not running(child)
    records = await read_topic(kafka_bootstrap_servers, topic, expected=5, partitions=1)
    assert event_ids(records) == ids
