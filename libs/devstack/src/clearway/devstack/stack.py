"""The whole platform as child processes: the Python API behind `make run` and end-to-end tests.

platform = start_platform()            # embedded PostgreSQL + broker, the services on free ports
platform.url("ledger")                  # "http://127.0.0.1:40123"
platform.stop_service("payout"); platform.start_service("payout")
platform.user_token("idt_...")          # a one-hour end-user token every service accepts
platform.stop()
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from clearway.devstack.asyncio_bridge import run_sync
from clearway.devstack.broker import EmbeddedBroker
from clearway.devstack.console import Console
from clearway.devstack.databases import drop_database, with_database
from clearway.devstack.local_config import embedded_user_token
from clearway.devstack.ports import find_free_port
from clearway.devstack.postgres import EmbeddedPostgres
from clearway.devstack.preparation import create_catalogue_topics, create_databases, run_migrations
from clearway.devstack.services import (
    SERVICE_NAMES,
    ServiceProcess,
    ServiceWiring,
    env_prefix,
    has_database,
    service_url,
    stop_services,
    wait_until_ready,
)
from clearway.platform.db import libpq_url
from clearway.platform.user_tokens import USER_TOKEN_TTL_S

DEFAULT_READY_TIMEOUT_S = 60.0
DEFAULT_STOP_TIMEOUT_S = 10.0
USER_TOKEN_SECRET_BYTES = 48


class PlatformError(RuntimeError):
    """The platform could not be started as asked."""


class Platform:
    """Running services plus the infrastructure they use; `stop()` ends everything it started."""

    def __init__(
        self,
        *,
        postgres_server_url: str,
        kafka_bootstrap_servers: str,
        api_key: str,
        database_prefix: str,
        wiring: ServiceWiring,
        services: Mapping[str, ServiceProcess],
        work_dir: Path,
        owned_postgres: EmbeddedPostgres | None,
        owned_broker: EmbeddedBroker | None,
        owns_work_dir: bool,
        ready_timeout_s: float,
        stop_timeout_s: float,
    ) -> None:
        self.postgres_server_url = postgres_server_url
        self.kafka_bootstrap_servers = kafka_bootstrap_servers
        self.api_key = api_key
        self.user_token_secret = wiring.user_token_secret
        # A second principal (`dev-approver`: approver and operator) for dual approval.
        self.approver_api_key = wiring.approver_api_key
        # A third, read-only principal (`dev-viewer`): the console shows it what it may not do.
        self.viewer_api_key = wiring.viewer_api_key
        self.database_prefix = database_prefix
        self.consumer_group_prefix = wiring.consumer_group_prefix
        self.work_dir = work_dir
        self._wiring = wiring
        self._services = dict(services)
        self._extra_instances: list[ServiceProcess] = []
        self._owned_postgres = owned_postgres
        self._owned_broker = owned_broker
        self._owns_work_dir = owns_work_dir
        self._ready_timeout_s = ready_timeout_s
        self._stop_timeout_s = stop_timeout_s

    # -- addresses ----------------------------------------------------------------------------

    @property
    def services(self) -> tuple[str, ...]:
        """Names of the services this platform runs (skipped, not-yet-written ones excluded)."""
        return tuple(self._services)

    def url(self, service: str) -> str:
        """Base HTTP URL of a service, e.g. `http://127.0.0.1:40123`."""
        return self._service(service).url

    def port(self, service: str) -> int:
        return self._service(service).port

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def database_url(self, service: str) -> str:
        """The service's own database as a SQLAlchemy asyncpg URL (what the service itself uses)."""
        return self._wiring.database_urls[service]

    def log_path(self, service: str) -> Path:
        return self._service(service).log_path

    def is_running(self, service: str) -> bool:
        return self._service(service).is_running()

    def pids(self) -> list[int]:
        """Process ids of the running services (the orchestrator records them)."""
        return [p.process.pid for p in self._services.values() if p.process is not None]

    def user_token(self, identity_id: str, *, ttl_s: int = USER_TOKEN_TTL_S) -> str:
        """A token for end user `identity_id` (a ledger identity id), signed as the services expect."""
        assert self.user_token_secret, "this platform was started without a user token secret"
        services_env = {**os.environ, **self._wiring.extra_env}  # what the services were started with
        return embedded_user_token(identity_id, secret=self.user_token_secret, env=services_env, ttl_s=ttl_s)

    # -- lifecycle ----------------------------------------------------------------------------

    def stop_service(self, service: str, *, graceful: bool = True, timeout_s: float | None = None) -> None:
        """SIGTERM (bounded wait, then SIGKILL); `graceful=False` sends SIGKILL at once, like a crash."""
        timeout = self._stop_timeout_s if timeout_s is None else timeout_s
        stop_services([self._service(service)], timeout_s=timeout, graceful=graceful)

    def start_service(self, service: str, *, ready_timeout_s: float | None = None) -> None:
        """Start a stopped service again on the same port; returns once `/health/ready` answers 200."""
        process = self._service(service)
        process.start()
        try:
            wait_until_ready([process], self._ready_timeout_s if ready_timeout_s is None else ready_timeout_s)
        except BaseException:
            stop_services([process], timeout_s=self._stop_timeout_s)
            raise

    def add_instance(self, service: str) -> str:
        """Start one more process of `service` (same database, broker and consumer groups) on a free
        port, as production scales out; returns its URL. `stop()` stops it with the rest."""
        port = find_free_port()
        env = self._wiring.env_for(service)
        env[f"{env_prefix(service)}PORT"] = str(port)
        log_path = self.work_dir / "logs" / f"{service}-{port}.log"
        process = ServiceProcess(service, port, env, log_path, None)
        self._extra_instances.append(process)
        process.start()
        wait_until_ready([process], self._ready_timeout_s)
        return service_url(port)

    def stop_postgres(self) -> None:
        """Stop the PostgreSQL server this platform owns (fault tests); the services keep running."""
        self._postgres().stop()

    def start_postgres(self) -> None:
        self._postgres().start()

    def restart_postgres(self) -> None:
        self.stop_postgres()
        self.start_postgres()

    def _postgres(self) -> EmbeddedPostgres:
        if self._owned_postgres is None:
            raise PlatformError("this platform uses a PostgreSQL server it did not start; it cannot stop it")
        return self._owned_postgres

    def restart_broker(self) -> None:
        """Stop the broker this platform owns and start it again on the same port (fault tests).

        The embedded broker keeps its log in memory, so the restarted one is empty: the catalogue
        topics are created again, and whatever it held but nobody had consumed is gone.
        """
        if self._owned_broker is None:
            raise PlatformError("this platform uses a broker it did not start; it cannot restart it")
        self._owned_broker.stop()
        self._owned_broker.start()
        create_catalogue_topics(self.kafka_bootstrap_servers)

    def pause_service(self, service: str, seconds: float) -> None:
        """Freeze a service (SIGSTOP) for `seconds`, then let it run on (SIGCONT): a stalled process
        (a long pause, a stuck VM) past its consumer groups' session timeout, so the broker hands its
        partitions to no one and it must notice, rejoin and carry on without losing or doubling a record."""
        process = self._service(service)
        process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            process.send_signal(signal.SIGCONT)

    def restart_service(self, service: str, *, graceful: bool = True) -> None:
        self.stop_service(service, graceful=graceful)
        self.start_service(service)

    def stop(self) -> None:
        """Stop the services, then the broker and PostgreSQL if this platform started them."""
        try:
            stop_services([*self._services.values(), *self._extra_instances], timeout_s=self._stop_timeout_s)
        finally:
            try:
                if self._owned_broker is not None:
                    self._owned_broker.stop()
            finally:
                if self._owned_postgres is not None:
                    self._owned_postgres.stop()
                    if self._owns_work_dir:
                        # The cluster is throwaway; the small logs stay for post-mortems.
                        shutil.rmtree(self._owned_postgres.data_dir, ignore_errors=True)

    def drop_databases(self) -> None:
        """Drop the services' databases (for servers that outlive the platform)."""
        for service in self._wiring.database_urls:
            run_sync(drop_database(self.postgres_server_url, self.database_name(service)))

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _service(self, service: str) -> ServiceProcess:
        if service not in self._services:
            raise KeyError(f"{service!r} is not running in this platform (running: {', '.join(self._services)})")
        return self._services[service]


def start_platform(
    *,
    postgres_server_url: str | None = None,
    kafka_bootstrap_servers: str | None = None,
    services: Sequence[str] = SERVICE_NAMES,
    ports: Mapping[str, int] | None = None,
    work_dir: Path | None = None,
    database_prefix: str | None = None,
    api_key: str | None = None,
    user_token_secret: str | None = None,
    approver_api_key: str | None = None,
    viewer_api_key: str | None = None,
    test_mode: bool = True,
    require_all: bool = True,
    console: Console | None = None,
    stream_logs: bool = True,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
    stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    consumer_group_prefix: str = "",
) -> Platform:
    """Start infrastructure (unless URLs are given), prepare it, start the services and wait until ready.

        `ports` defaults to free ports for every service, so this can run beside `make run`.
        `database_prefix` defaults to a unique `e2e_<hex>`; service databases are `<prefix>_<service>`.
        With `require_all`, a service whose package has no `main.create_app` is an error; otherwise
        it is skipped. `console` gets progress messages and, with `stream_logs`, every service's
    output prefixed with its name; the output always goes to `<work_dir>/logs/<service>.log`.
    """
    unknown = set(services) - set(SERVICE_NAMES)
    assert not unknown, f"unknown services {sorted(unknown)}"
    owns_work_dir = work_dir is None
    work_dir = Path(tempfile.mkdtemp(prefix="clearway-platform-")) if work_dir is None else work_dir
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    owned_postgres: EmbeddedPostgres | None = None
    owned_broker: EmbeddedBroker | None = None
    started: dict[str, ServiceProcess] = {}
    try:
        if postgres_server_url is None:
            owned_postgres = EmbeddedPostgres(
                work_dir / "pgdata", find_free_port(), test_mode=test_mode, log_path=log_dir / "postgres.log"
            )
            owned_postgres.start()
            postgres_server_url = owned_postgres.url
        if kafka_bootstrap_servers is None:
            owned_broker = EmbeddedBroker(find_free_port(), log_dir / "broker.log")
            owned_broker.start()
            kafka_bootstrap_servers = owned_broker.bootstrap
        say = console.say if console is not None else (lambda _message: None)
        prefix = database_prefix or f"e2e_{secrets.token_hex(4)}"
        server_url = libpq_url(postgres_server_url)
        database_urls = {
            s: with_database(server_url, f"{prefix}_{s}", driver="asyncpg") for s in SERVICE_NAMES if has_database(s)
        }
        # A service without a database (the console) has nothing to create or migrate.
        wanted = {s: database_urls[s] for s in services if has_database(s)}
        created = create_databases(server_url, [f"{prefix}_{s}" for s in wanted])
        say(f"databases: {', '.join(created) if created else 'all present'}")
        topics = create_catalogue_topics(kafka_bootstrap_servers)
        say(
            "topics: no catalogue yet (clearway.contracts.catalogue)"
            if topics is None
            else f"topics: {len(topics)} ready"
        )
        log_paths = {s: log_dir / f"{s}.log" for s in SERVICE_NAMES}
        missing = run_migrations(wanted, log_paths)
        say(f"migrations: done{f'; skipped (no main.create_app): {sorted(missing)}' if missing else ''}")
        if missing and require_all:
            raise PlatformError(f"services without clearway.<name>.main.create_app: {sorted(missing)}")
        wiring = ServiceWiring(
            database_urls=database_urls,
            ports=_all_ports(ports),
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            api_key=api_key or secrets.token_urlsafe(32),
            extra_env=dict(extra_env or {}),
            consumer_group_prefix=consumer_group_prefix,
            user_token_secret=user_token_secret or secrets.token_urlsafe(USER_TOKEN_SECRET_BYTES),
            approver_api_key=approver_api_key or secrets.token_urlsafe(32),
            viewer_api_key=viewer_api_key or secrets.token_urlsafe(32),
        )
        for service in (s for s in services if s not in missing):
            process = ServiceProcess(
                service,
                wiring.ports[service],
                wiring.env_for(service),
                log_paths[service],
                console if stream_logs else None,
            )
            started[service] = process
            process.start()
        wait_until_ready(list(started.values()), ready_timeout_s)
        return Platform(
            postgres_server_url=server_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            api_key=wiring.api_key,
            database_prefix=prefix,
            wiring=wiring,
            services=started,
            work_dir=work_dir,
            owned_postgres=owned_postgres,
            owned_broker=owned_broker,
            owns_work_dir=owns_work_dir,
            ready_timeout_s=ready_timeout_s,
            stop_timeout_s=stop_timeout_s,
        )
    except BaseException:
        stop_services(list(started.values()), timeout_s=stop_timeout_s)
        if owned_broker is not None:
            owned_broker.stop()
        if owned_postgres is not None:
            owned_postgres.stop()
            if owns_work_dir:
                shutil.rmtree(owned_postgres.data_dir, ignore_errors=True)
        raise


def _all_ports(ports: Mapping[str, int] | None) -> dict[str, int]:
    chosen = dict(ports or {})
    for service in SERVICE_NAMES:
        if service not in chosen:
            chosen[service] = find_free_port()
    return chosen
