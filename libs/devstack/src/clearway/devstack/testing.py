"""The test plumbing every service's tests share, so each is written once.

- Running a service in-process: `running_app` (its lifespan, engine, relay and consumers started
  against real infrastructure, and an authenticated client on it), `app_runner` (the
  `running_<service>` fixture's value), `migrated_database`.
- Waiting: `wait_until`, the one bounded poll for "eventually true".
- Acting as the outside world: `publish_as_processor`, `started_producer`.
- Keeping other tests' events away from an app that is not about them: `skip_what_was_published`.
- Reading a service the way its tests check it: `inbox_event_ids`, `collect_pages`, the probe
  expectations, `orm_schema_drift`.
- `InMemoryInbox`: the inbox port's fake for unit tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError
from aiokafka.structs import RecordMetadata, TopicPartition
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Connection, MetaData

from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.devstack.ports import find_free_port
from clearway.platform.auth import hash_api_key
from clearway.platform.db import create_engine, libpq_url
from clearway.platform.runtime import runtime_of

T = TypeVar("T")
ItemT = TypeVar("ItemT", bound="HasId")
SettingsT = TypeVar("SettingsT", bound="Settings")

WAIT_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.1
# No test waits longer than this for anything; a longer wait is a hang, not a slow machine.
WAIT_TIMEOUT_S_MAX = 600.0
PAGES_MAX = 200
PAGE_SIZE = 100
# Schema differences that name a table or column: orm.py must mirror these. Indexes and
# constraints live in the migrations only.
COLUMN_LEVEL_OPERATIONS = frozenset({"add_table", "remove_table", "add_column", "remove_column"})


class HasId(Protocol):
    @property
    def id(self) -> str: ...


class Settings(Protocol):
    """What the helpers need of a service's settings (a pydantic `ServiceSettings`)."""

    database_url: str

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any: ...


RunningApp = Callable[[SettingsT], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


async def wait_until(
    condition: Callable[[], Awaitable[T]] | Callable[[], T],
    what: str,
    *,
    timeout_s: float = WAIT_TIMEOUT_S,
    interval_s: float = POLL_INTERVAL_S,
) -> T:
    """Poll `condition` (async or plain) every `interval_s` until it returns something truthy, and
    return that; after `timeout_s` raise an AssertionError naming `what` ("funding shows the deposit").

    Bounded twice: at most timeout_s / interval_s + 1 polls, and none started after the deadline.
    """
    assert what, "say what is awaited: it is the failure message"
    assert 0 < interval_s <= timeout_s <= WAIT_TIMEOUT_S_MAX, (interval_s, timeout_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    for _poll in range(math.ceil(timeout_s / interval_s) + 1):
        result = condition()
        value = await result if inspect.isawaitable(result) else result
        if value:
            return value
        if loop.time() >= deadline:
            break
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting until {what}")


@contextlib.asynccontextmanager
async def running_app(
    app: FastAPI,
    *,
    api_key: str,
    base_url: str,
    key_header: str = "X-API-Key",
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """`async with running_app(create_app(settings), api_key=..., base_url="http://funding") as client`.
    Leaving the block stops the app's lifespan."""
    async with (
        app.router.lifespan_context(app),
        app_client(app, api_key=api_key, base_url=base_url, key_header=key_header, transport=transport) as client,
    ):
        yield client


def app_client(
    app: FastAPI,
    *,
    api_key: str,
    base_url: str,
    key_header: str = "X-API-Key",
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client calling `app` in-process with `api_key`, without starting its lifespan (unit tests
    with the unit of work overridden). Use as `async with app_client(...) as client`."""
    return httpx.AsyncClient(
        transport=transport or httpx.ASGITransport(app=app), base_url=base_url, headers={key_header: api_key}
    )


def read_only_api_keys_json(api_key: str, name: str = "reader") -> str:
    """`api_keys_json` settings for one read-only key."""
    return orjson.dumps([{"name": name, "key_sha256": hash_api_key(api_key), "roles": ["read_only"]}]).decode()


def app_runner(create_app: Callable[[SettingsT], FastAPI], *, api_key: str, base_url: str) -> RunningApp[SettingsT]:
    """What a `running_<service>` fixture returns: `async with running(settings) as client` runs
    `create_app(settings)` with its lifespan and gives a client authenticated with `api_key`."""

    def running(settings: SettingsT) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        return running_app(create_app(settings), api_key=api_key, base_url=base_url)

    return running


async def migrated_database(
    make_database: Callable[[str], Awaitable[str]], name: str, run_migrations: Callable[[str], None]
) -> str:
    """A fresh database migrated by the service's own `run_migrations`, the entrypoint
    `python -m clearway.<service>.main migrate` and the devstack use."""
    url = await make_database(name)
    await asyncio.to_thread(run_migrations, url)
    return url


@contextlib.asynccontextmanager
async def started_producer(bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    """A producer that waits for every in-sync replica, as a careful outside processor would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def publish_as_processor(
    producer: AIOKafkaProducer, topic: str, body: Mapping[str, Any], *, key: str, event_id: str, source: str
) -> RecordMetadata:
    """Publish exactly what an outside processor sends (ARCHITECTURE.md's public contract):
    CloudEvents binary-mode headers with only the required attributes, a JSON body, the aggregate
    id as key. The headers come from the one codec; the exact bytes of the published contract are
    pinned by libs/contracts' codec tests, so a change to the codec cannot pass unnoticed here."""
    attributes = EventAttributes(id=event_id, source=source, type=topic, time=datetime.now(UTC))
    metadata: RecordMetadata = await producer.send_and_wait(
        topic, orjson.dumps(body), key=key.encode(), headers=cloudevents.encode(attributes)
    )
    return metadata


async def skip_what_was_published(app: FastAPI, *, groups: Mapping[str, Iterable[str]] | None = None) -> None:
    """Before `app` starts: commit, for each of its consumer groups, the current end of every topic
    the group reads, so its consumers begin with what is published from then on.

    For tests about something else than consuming (the authorization matrix) whose apps would
    otherwise work through whatever the session left on the shared broker (an end-to-end test's
    thousands of ledger commands), retrying each record and delaying their stop. Give the app a
    consumer group prefix of its own: other apps' groups must keep their offsets.

    The groups are the app's subscriptions known at build time; an app that subscribes in its
    lifespan (the ledger) names them: `groups={"ledger.commands": [topic, ...]}` (without prefix)."""
    runtime = runtime_of(app)
    prefix = runtime.settings.kafka_consumer_group_prefix
    assert prefix, "skip only in groups of the test's own (set kafka_consumer_group_prefix)"
    topics_by_group: dict[str, set[str]] = {}
    if groups is None:
        for subscription in runtime.subscriptions:
            topics_by_group.setdefault(prefix + subscription.group_id, set()).add(subscription.topic)
    else:
        topics_by_group = {prefix + group_id: set(topics) for group_id, topics in groups.items()}
    # A fresh group of the test's own reads every topic from its start: skipping nothing would be slower.
    assert topics_by_group, "the app subscribes in its lifespan: name its groups (groups=...)"
    for group_id, topics in topics_by_group.items():
        # A manual assignment commits without joining the group (no rebalance to wait for).
        consumer = AIOKafkaConsumer(
            bootstrap_servers=runtime.settings.kafka_bootstrap_servers, group_id=group_id, enable_auto_commit=False
        )
        await consumer.start()
        try:
            existing = await consumer.topics()
            partitions = [
                TopicPartition(topic, partition)
                for topic in sorted(topics & existing)
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            if partitions:  # a topic not created yet holds nothing to skip
                consumer.assign(partitions)
                # A group with live members already (an app started beside this one shares it) takes
                # commits only from them, and they are consuming anyway: nothing to skip then.
                with contextlib.suppress(
                    CommitFailedError, UnknownMemberIdError, IllegalGenerationError, RebalanceInProgressError
                ):
                    await consumer.commit(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()


async def inbox_event_ids(database_url: str, consumer: str) -> set[str]:
    """The event ids `consumer` has recorded in its service's inbox, as the producer sent them:
    consumers that key rows `<source>#<id>` (events from outside processors) are read back as `<id>`."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch("SELECT event_id FROM inbox WHERE consumer = $1", consumer)
    finally:
        await connection.close()
    return {str(row["event_id"]).rpartition("#")[2] for row in rows}


async def collect_pages(
    client: httpx.AsyncClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    keep: Callable[[dict[str, Any]], bool] = lambda _item: True,
) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated collection (`data`, `has_more`, `starting_after`) that `keep` accepts."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _page in range(PAGES_MAX):
        query = {"limit": PAGE_SIZE, **(params or {}), **({"starting_after": cursor} if cursor else {})}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [item for item in page["data"] if keep(item)]
        if not page["has_more"]:
            return found
        cursor = page["data"][-1]["id"]
    raise AssertionError(f"{path} has more than {PAGES_MAX} pages")


async def expect_live_and_ready(client: httpx.AsyncClient) -> dict[str, str]:
    """Both probes pass and readiness checked (at least) the database and the broker; the checks."""
    assert (await client.get("/health/live")).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    checks: dict[str, str] = ready.json()["checks"]
    assert {"database", "kafka"} <= checks.keys() and set(checks.values()) == {"ok"}, checks
    return checks


async def expect_live_but_not_ready_without_database(client: httpx.AsyncClient) -> None:
    """The process is alive, readiness is 503 and names the database as the reason."""
    assert (await client.get("/health/live")).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["database"].startswith("error: ")


def with_unreachable_database(settings: SettingsT) -> SettingsT:
    """The same settings pointed at a port where no database listens."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/unreachable"
    copied: SettingsT = settings.model_copy(update={"database_url": url})
    return copied


async def orm_schema_drift(database_url: str, metadata: MetaData) -> list[Any]:
    """Where a service's orm.py and its migrated database disagree on tables, columns, types or
    nullability (migrations own the schema; orm.py mirrors it). Empty when they agree."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, kind, _parent: kind != "table" or name in metadata.tables},
        )
        return list(compare_metadata(context, metadata))

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    return [d for d in differences if isinstance(d, list) or d[0] in COLUMN_LEVEL_OPERATIONS]


def keyset_page(items: Iterable[ItemT], *, starting_after: str | None, limit: int, **equal_to: object) -> list[ItemT]:
    """What a repository's keyset `list` returns, in memory: by `id`, after the cursor, each named
    field equal to its value (a None value does not filter), at most `limit`."""
    found = sorted(items, key=lambda item: item.id)
    found = [item for item in found if starting_after is None or item.id > starting_after]
    for name, value in equal_to.items():
        found = [item for item in found if value is None or getattr(item, name) == value]
    return found[:limit]


class ReadOnlyUnitOfWork:
    """Base of unit-of-work fakes whose repositories are plain in-memory objects: a block that
    neither rolls back nor needs to commit."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        return None


class InMemoryInbox:
    """The inbox port (`record_once`) in memory, for unit tests of consumers' use cases."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        if (consumer, event_id) in self.seen:
            return False
        self.seen.add((consumer, event_id))
        return True


class LoopBridge:
    """Runs coroutines on the test's event loop from another thread: Hypothesis's `@given` body runs
    synchronously (in `asyncio.to_thread`), while the app under test lives on the test's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, timeout_s: float) -> None:
        self.loop = loop
        self.timeout_s = timeout_s

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=self.timeout_s)
