"""What every service runs besides its HTTP routes: the database engine, topic creation,
the outbox relay and the consumers, started and stopped in the right order; and the
`migrate` / `serve` command line each service's `main.py` exposes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clearway.contracts.catalogue import topics_for_service
from clearway.platform.consumer import BatchHandler, ConsumerRunner, Handler
from clearway.platform.db import create_engine, create_session_factory
from clearway.platform.dead_letters import SqlDeadLetterLog
from clearway.platform.health import ReadinessCheck, database_check, kafka_check
from clearway.platform.http import create_http_app
from clearway.platform.invariants import require_assertions_enabled
from clearway.platform.kafka import KafkaPublisher, ensure_topics
from clearway.platform.migrations import upgrade_database
from clearway.platform.owner_lease import OwnerLease
from clearway.platform.publishing import published_topics
from clearway.platform.relay import RelayConfig, RelayMetrics
from clearway.platform.relay_process import STOP_TIMEOUT_S, OutboxRelayProcess
from clearway.platform.retry import BackoffPolicy, any_error
from clearway.platform.settings import ServiceSettings

logger = logging.getLogger(__name__)

# The broker may still be starting when a service starts: 400 ms doubling to 5 s, ten attempts.
TOPIC_CREATION_BACKOFF = BackoffPolicy(attempts_max=10, initial_ms=400, maximum_ms=5_000)
# Stopping waits this long for the in-process relay's batch in hand.
IN_PROCESS_RELAY_STOP_TIMEOUT_S = 10


@dataclass
class Subscription:
    topic: str
    group_id: str
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None


@dataclass
class ServiceRuntime:
    """Owns the engine, publisher, relay and consumers of one service process."""

    settings: ServiceSettings
    topics: Sequence[tuple[str, int]] = ()
    subscriptions: list[Subscription] = field(default_factory=list)
    engine: AsyncEngine = field(init=False)
    session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    publisher: KafkaPublisher | None = field(default=None, init=False)
    consumers: ConsumerRunner | None = field(default=None, init=False)
    owner_lease: OwnerLease = field(init=False)
    relay_process: OutboxRelayProcess | None = field(default=None, init=False)
    _relay_stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _relay_task: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Building the engine does not connect; the first query does.
        self.engine = create_engine(self.settings.database_url, pool_size=self.settings.database_pool_size)
        self.session_factory = create_session_factory(self.engine)
        self.owner_lease = OwnerLease(self.settings.database_url)

    @property
    def produces(self) -> frozenset[str]:
        """The topics this service may publish: the catalogue's (non-planned) producers of them."""
        return published_topics(self.settings.service_name)

    @classmethod
    def for_service(cls, settings: ServiceSettings) -> ServiceRuntime:
        """A runtime creating the topics the catalogue lists for `settings.service_name`."""
        specs = topics_for_service(settings.service_name)
        return cls(settings, topics=[(spec.name, spec.partitions) for spec in specs])

    def create_app(self, *, title: str, routers: Sequence[APIRouter], version: str = "0.1.0") -> FastAPI:
        """The service's HTTP app with a lifespan that starts and stops this runtime."""

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            self.install(app)
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = create_http_app(
            settings=self.settings,
            title=title,
            version=version,
            routers=routers,
            lifespan=lifespan,
            readiness_checks=self.readiness_checks(),
        )
        app.state.runtime = self  # at build time, so `runtime_of(app)` works without starting it
        return app

    def subscribe(self, topic: str, group_id: str, handler: Handler) -> None:
        self.subscriptions.append(Subscription(topic, group_id, handler=handler))

    def subscribe_batch(self, topic: str, group_id: str, handler: BatchHandler) -> None:
        self.subscriptions.append(Subscription(topic, group_id, batch_handler=handler))

    def install(self, app: Any) -> None:
        """Expose the runtime to routes and platform middleware (idempotency reads `engine`)."""
        app.state.runtime = self
        app.state.engine = self.engine
        app.state.session_factory = self.session_factory
        app.state.owner_lease = self.owner_lease

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        return {
            "database": database_check(self.engine),
            "kafka": kafka_check(self.settings.kafka_bootstrap_servers),
            "consumers": self._consumers_check,
        }

    async def _consumers_check(self) -> None:
        # A consumer loop that died (e.g. its dead-letter topic unreachable) is not restarted
        # automatically: report it so the orchestrator restarts the instance.
        if self.consumers is not None and not self.consumers.healthy():
            raise RuntimeError("a consumer loop has stopped")

    async def start(self) -> None:
        await self.owner_lease.start()  # before serving: claims made by requests name this process
        await self._create_topics()
        self._relay_task = asyncio.create_task(await self._relay_loop(), name="outbox-relay")
        if self.subscriptions:
            # Dead letters are recorded in this service's database, for operators to list and count.
            self.consumers = ConsumerRunner.from_settings(self.settings, dead_letter_log=SqlDeadLetterLog(self.engine))
            for subscription in self.subscriptions:
                if subscription.batch_handler is not None:
                    self.consumers.add_batch(subscription.topic, subscription.group_id, subscription.batch_handler)
                else:
                    assert subscription.handler is not None
                    self.consumers.add(subscription.topic, subscription.group_id, subscription.handler)
            await self.consumers.start()
        logger.info("service runtime started", extra={"service": self.settings.service_name})

    async def _relay_loop(self) -> Coroutine[Any, Any, None]:
        """The outbox relay's loop: in this process, or in a child process this one supervises."""
        config = RelayConfig.from_settings(self.settings)
        metrics = RelayMetrics(self.settings.service_name)
        if self.settings.outbox_relay_process:
            self.relay_process = OutboxRelayProcess(config, metrics)
            return self.relay_process.run(self._relay_stop)
        self.publisher = config.publisher()
        await self.publisher.start()
        return config.relay(self.engine, self.publisher, metrics).run(self._relay_stop)

    async def stop(self) -> None:
        if self.consumers is not None:
            await self.consumers.stop()
        self._relay_stop.set()
        if self._relay_task is not None:
            # A relay process gets its own bound (STOP_TIMEOUT_S) before it is killed, then a margin.
            timeout_s = STOP_TIMEOUT_S + 5 if self.relay_process is not None else IN_PROCESS_RELAY_STOP_TIMEOUT_S
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._relay_task, timeout=timeout_s)
        if self.publisher is not None:
            await self.publisher.stop()
        await self.owner_lease.stop()
        await self.engine.dispose()

    async def _create_topics(self) -> None:
        """Services create their topics at start (explicit partitions; never auto-create)."""
        async for attempt in TOPIC_CREATION_BACKOFF.retrying(retry_if=any_error, what="topic creation"):
            with attempt:
                await ensure_topics(self.settings.kafka_bootstrap_servers, list(self.topics))


def runtime_of(app: Any) -> ServiceRuntime:
    """The runtime a service's `create_app` built (services set `app.state.runtime` at build time)."""
    runtime = getattr(app.state, "runtime", None)
    if not isinstance(runtime, ServiceRuntime):
        raise LookupError("the app has no ServiceRuntime: its create_app must set app.state.runtime")
    return runtime


def service_command_line(
    *,
    service_name: str,
    migrations_dir: Path,
    settings_factory: Callable[[], ServiceSettings],
    app_factory_path: str,
    argv: Sequence[str] | None = None,
) -> None:
    """`python -m clearway.<svc>.main migrate|serve`."""
    require_assertions_enabled()  # `migrate` too: migrations assert their own preconditions
    parser = argparse.ArgumentParser(prog=f"clearway.{service_name}.main")
    parser.add_argument("command", choices=["migrate", "serve"])
    arguments = parser.parse_args(argv)
    settings = settings_factory()
    if arguments.command == "migrate":
        upgrade_database(migrations_dir, settings.database_url)
        return
    import uvicorn

    uvicorn.run(
        app_factory_path,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        # SIGTERM: stop accepting, let in-flight requests finish for at most this long, then run the
        # lifespan's shutdown (consumers stop and commit what they applied; the outbox relay stops).
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )
