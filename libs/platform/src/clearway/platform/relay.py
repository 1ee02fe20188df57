"""The outbox relay: publishes committed outbox rows in id order and marks them published.

It wakes on `LISTEN clearway_outbox` (sent by `add_event` at commit) and polls anyway, so a
lost notification or a dropped listener connection only delays publishing, never loses it.
At-least-once: a crash after publishing but before marking sends the rows again, and
consumers' inboxes absorb the duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter as Tally
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from prometheus_client import Counter, Gauge
from sqlalchemy import BigInteger, ColumnElement, Row, Text, any_, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clearway.contracts import cloudevents
from clearway.platform.kafka import KafkaPublisher
from clearway.platform.outbox import OutboxMessage
from clearway.platform.retry import BackoffPolicy
from clearway.platform.settings import ServiceSettings
from clearway.platform.tables import OUTBOX_NOTIFY_CHANNEL, outbox

logger = logging.getLogger(__name__)

OUTBOX_PUBLISHED = Counter(
    "clearway_outbox_published_total", "Outbox events published to the broker", ["service", "topic"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "clearway_outbox_publish_failures_total", "Outbox batches the broker did not accept", ["service"]
)
OUTBOX_LAG = Gauge(
    "clearway_outbox_lag_seconds", "Age of the oldest unpublished outbox event at the last claim", ["service"]
)

# One relay publishes at a time per database (the others stand by): two relays publishing
# neighbouring batches at once could reorder one key's events on its partition.
RELAY_ADVISORY_LOCK_ID = 0x636C_6F75_7462  # "cloutb"
LAST_ERROR_LENGTH_MAX = 2_000
FAILURE_BACKOFF_MS_MAX = 30_000
LISTEN_RECONNECT_MS_MAX = 10_000

# A selected outbox row, whatever columns the select names.
OutboxRow = Row[*tuple[Any, ...]]


class Publisher(Protocol):
    async def send_batch(self, messages: Sequence[OutboxMessage], /) -> None:
        """Return only when the broker has acknowledged every message; raise otherwise."""


class RelayObserver(Protocol):
    """What a relay reports as it goes: the service's metrics, or a report pipe to the service."""

    def claimed(self, lag_s: float) -> None:
        """A claim found its oldest row `lag_s` seconds old (0 when it found none)."""

    def published(self, counts_by_topic: Mapping[str, int]) -> None:
        """A batch was acknowledged by the broker and marked published."""

    def failed(self) -> None:
        """A batch was not published; the relay backs off and tries again."""


class RelayMetrics:
    """The relay's Prometheus metrics, labelled with the service whose outbox it publishes."""

    def __init__(self, service_name: str) -> None:
        self._service_name = service_name

    def claimed(self, lag_s: float) -> None:
        OUTBOX_LAG.labels(self._service_name).set(lag_s)

    def published(self, counts_by_topic: Mapping[str, int]) -> None:
        for topic, count in counts_by_topic.items():
            OUTBOX_PUBLISHED.labels(self._service_name, topic).inc(count)

    def failed(self) -> None:
        OUTBOX_PUBLISH_FAILURES.labels(self._service_name).inc()


def outbox_message(row: OutboxRow) -> OutboxMessage:
    """An outbox row (its payload selected as text) as a publisher's message.

    The stored attributes become headers through the CloudEvents codec, so rows written in an older
    shape (a `+00:00` offset instead of `Z`, null extensions, a `datacontenttype` entry), such as
    rows `replay` queues again, are published in today's shape; rows in today's shape skip the
    model (`headers_from_strings`). The payload goes out as PostgreSQL prints the stored jsonb: no
    decode and re-encode per event, and an integer beyond 64 bits stays exact (an encoder would refuse it).
    """
    return OutboxMessage(
        id=row.id,
        event_id=row.event_id,
        topic=row.topic,
        key=row.message_key,
        event_type=row.event_type,
        headers=cloudevents.headers_from_strings(row.headers),
        value=row.payload.encode("utf-8"),
    )


def libpq_url(engine: AsyncEngine) -> str:
    """The engine's URL without the SQLAlchemy driver suffix, for a raw asyncpg connection."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        publisher: Publisher,
        *,
        service_name: str = "clearway",
        poll_interval_ms: int = 500,
        batch_size_max: int = 500,
        listen: bool = True,
        observer: RelayObserver | None = None,
    ) -> None:
        assert poll_interval_ms >= 1 and batch_size_max >= 1
        self._engine = engine
        self._publisher = publisher
        self._observer = observer if observer is not None else RelayMetrics(service_name)
        self._poll_interval_ms = poll_interval_ms
        self._batch_size_max = batch_size_max
        self._listen = listen
        # Both loops retry until stopped, starting at the poll interval and doubling to their cap
        # (an interval above a cap waits the cap).
        self.publish_failure_backoff = BackoffPolicy(
            attempts_max=None,
            initial_ms=min(poll_interval_ms, FAILURE_BACKOFF_MS_MAX),
            maximum_ms=FAILURE_BACKOFF_MS_MAX,
        )
        self.listen_reconnect_backoff = BackoffPolicy(
            attempts_max=None,
            initial_ms=min(poll_interval_ms, LISTEN_RECONNECT_MS_MAX),
            maximum_ms=LISTEN_RECONNECT_MS_MAX,
        )
        self._wake = asyncio.Event()
        self.listening = False

    async def run_once(self) -> int:
        """Publish one batch of unpublished rows; return how many were published."""
        async with self._engine.connect() as connection:
            # Leaving this block without `commit()` rolls back and releases the row and advisory locks.
            locked = await connection.scalar(select(func.pg_try_advisory_xact_lock(RELAY_ADVISORY_LOCK_ID)))
            if not locked:
                return 0
            rows = await self._claim(connection)
            self._observer.claimed((datetime.now(UTC) - rows[0].created_at).total_seconds() if rows else 0.0)
            if not rows:
                return 0
            ids = [row.id for row in rows]
            try:
                # Read inside the try: a stored row the codec refuses is recorded like a broker refusal.
                messages = [outbox_message(row) for row in rows]
                await self._publisher.send_batch(messages)
            except Exception as error:
                await connection.rollback()
                await self._record_failure(ids, error)
                raise
            await connection.execute(update(outbox).where(_id_in(ids)).values(published_at=func.now()))
            await connection.commit()
        self._observer.published(Tally(message.topic for message in messages))
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; publish failures back off and retry, never end the loop."""
        listener = asyncio.create_task(self._listen_forever(stop)) if self._listen else None
        failures = 0
        try:
            while not stop.is_set():
                # Clear before publishing: a notification that arrives meanwhile wakes the next wait.
                self._wake.clear()
                try:
                    published = await self.run_once()
                    failures = 0
                except Exception:
                    failures += 1
                    self._observer.failed()
                    delay_ms = self.publish_failure_backoff.delay_ms(failures)
                    logger.exception("outbox publish failed; retrying in %d ms", delay_ms)
                    await _wait_for(stop, delay_ms)
                    continue
                if published == self._batch_size_max:
                    continue  # a full batch: there is probably more waiting
                await _wait_any(stop, self._wake, self._poll_interval_ms)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _claim(self, connection: AsyncConnection) -> Sequence[OutboxRow]:
        return (
            await connection.execute(
                select(
                    outbox.c.id,
                    outbox.c.event_id,
                    outbox.c.topic,
                    outbox.c.message_key,
                    outbox.c.event_type,
                    outbox.c.headers,
                    cast(outbox.c.payload, Text).label("payload"),
                    outbox.c.created_at,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self._batch_size_max)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def _record_failure(self, ids: list[int], error: Exception) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(outbox)
                .where(_id_in(ids))
                .values(attempts=outbox.c.attempts + 1, last_error=repr(error)[:LAST_ERROR_LENGTH_MAX])
            )

    async def _listen_forever(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(libpq_url(self._engine))
            except Exception:  # any failure to connect: polling covers for us meanwhile
                failures += 1
                delay_ms = self.listen_reconnect_backoff.delay_ms(failures)
                logger.warning("outbox listener cannot connect; retrying in %d ms", delay_ms)
                await _wait_for(stop, delay_ms)
                continue
            try:
                connection.add_termination_listener(_setter(lost))
                await connection.add_listener(OUTBOX_NOTIFY_CHANNEL, self._on_notify)
                failures = 0
                self.listening = True
                # Rows committed while we were not listening are picked up now, not at the next poll.
                self._wake.set()
                await _wait_any(stop, lost, None)
            except Exception:
                logger.warning("outbox listener connection lost; reconnecting", exc_info=True)
            finally:
                self.listening = False
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)

    def _on_notify(self, *_arguments: Any) -> None:
        self._wake.set()


@dataclass(frozen=True)
class RelayConfig:
    """What a relay needs of its service's settings, and nothing else (no keys; the URL's password is
    the one secret): the runtime builds the in-process relay from it, and a relay process gets it as
    JSON in its environment (the child's environment drops the service's own `CLEARWAY_*` variables)."""

    service_name: str
    database_url: str = field(repr=False)  # may hold a password
    kafka_bootstrap_servers: str
    kafka_enable_idempotence: bool
    poll_interval_ms: int
    batch_size_max: int
    log_level: str
    log_json: bool

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> RelayConfig:
        return cls(
            service_name=settings.service_name,
            database_url=settings.database_url,
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
            kafka_enable_idempotence=settings.kafka_enable_idempotence,
            poll_interval_ms=settings.outbox_poll_interval_ms,
            batch_size_max=settings.outbox_batch_size_max,
            log_level=settings.log_level,
            log_json=settings.log_json,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RelayConfig:
        return cls(**json.loads(text))

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(
            self.kafka_bootstrap_servers,
            enable_idempotence=self.kafka_enable_idempotence,
            client_id=f"{self.service_name}-outbox",
        )

    def relay(self, engine: AsyncEngine, publisher: Publisher, observer: RelayObserver) -> OutboxRelay:
        return OutboxRelay(
            engine,
            publisher,
            service_name=self.service_name,
            poll_interval_ms=self.poll_interval_ms,
            batch_size_max=self.batch_size_max,
            observer=observer,
        )


def _id_in(ids: list[int]) -> ColumnElement[bool]:
    """`id = ANY(:ids)`: one array parameter, where `IN` would render and bind a parameter per id."""
    return outbox.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _connection: event.set()


async def _wait_for(stop: asyncio.Event, delay_ms: int) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay_ms / 1000)


async def _wait_any(first: asyncio.Event, second: asyncio.Event, timeout_ms: int | None) -> None:
    waiters = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(
            waiters,
            timeout=None if timeout_ms is None else timeout_ms / 1000,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
