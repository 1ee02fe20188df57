"""`make run` / `make dev`: the local stack in the foreground until Ctrl-C or SIGTERM.

`run`: PostgreSQL + broker (embedded unless `CLEARWAY_DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS`
point elsewhere), one database per service that has one, migrations, topics, the services (the
five of the platform and the operator console).
`up`: the same infrastructure, databases and topics, no services; prints `export` lines.
Shutdown order is services, broker, PostgreSQL; nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from clearway.devstack.broker import EmbeddedBroker
from clearway.devstack.console import Console
from clearway.devstack.databases import with_database
from clearway.devstack.guards import (
    AlreadyRunningError,
    data_dir_lock,
    pid_file,
    record_children,
    stop_stale_children,
)
from clearway.devstack.local_config import (
    DEFAULT_BROKER_PORT,
    DEFAULT_POSTGRES_PORT,
    choose_port,
    load_or_create_api_key,
    load_or_create_approver_key,
    load_or_create_user_token_secret,
    load_or_create_viewer_key,
    service_ports,
)
from clearway.devstack.postgres import EmbeddedPostgres, running_postmaster
from clearway.devstack.preparation import create_catalogue_topics, create_databases
from clearway.devstack.processes import log_tail
from clearway.devstack.services import DATABASE_SERVICES, SERVICE_NAMES, env_prefix, has_database, service_url
from clearway.devstack.stack import Platform, start_platform
from clearway.platform.db import libpq_url

DATABASE_PREFIX = "clearway"
_WATCH_INTERVAL_S = 0.5


@dataclass
class Infrastructure:
    postgres_server_url: str
    kafka_bootstrap_servers: str
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        try:
            if self.broker is not None:
                self.broker.stop()
        finally:
            if self.postgres is not None:
                self.postgres.stop()


def start_infrastructure(data_dir: Path, console: Console) -> Infrastructure:
    """PostgreSQL and broker from the environment, or embedded ones under `data_dir`."""
    logs = data_dir / "logs"
    notes: list[str] = []
    infra = Infrastructure(postgres_server_url="", kafka_bootstrap_servers="", notes=notes)
    try:
        external_database = os.environ.get("CLEARWAY_DATABASE_URL")
        if external_database:
            infra.postgres_server_url = with_database(libpq_url(external_database), "postgres")
        else:
            pgdata = data_dir / "pgdata"
            existing = running_postmaster(pgdata)
            choice = choose_port(
                "CLEARWAY_EMBEDDED_PG_PORT", DEFAULT_POSTGRES_PORT, already_ours=existing[1] if existing else None
            )
            notes += [choice.note] if choice.note else []
            console.say(f"starting PostgreSQL on 127.0.0.1:{choice.port} (data {pgdata})")
            infra.postgres = EmbeddedPostgres(pgdata, choice.port, log_path=logs / "postgres.log")
            infra.postgres.start()
            infra.postgres_server_url = infra.postgres.url
        external_broker = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external_broker:
            infra.kafka_bootstrap_servers = external_broker
        else:
            choice = choose_port("CLEARWAY_BROKER_PORT", DEFAULT_BROKER_PORT)
            notes += [choice.note] if choice.note else []
            console.say(f"starting broker (Tansu, in-memory) on 127.0.0.1:{choice.port}")
            infra.broker = EmbeddedBroker(choice.port, logs / "broker.log")
            infra.broker.start()
            infra.kafka_bootstrap_servers = infra.broker.bootstrap
    except BaseException:
        infra.stop()
        raise
    return infra


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _foreground_signals() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C; the previous handlers come back on exit."""
    previous_interrupt = signal.getsignal(signal.SIGINT)
    previous_terminate = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_interrupt)
        signal.signal(signal.SIGTERM, previous_terminate)


def _shield_shutdown() -> None:
    """Once we are shutting down (bounded), a second Ctrl-C must not cut it short and leave orphans."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _console_log_env() -> dict[str, str]:
    # JSON lines are for log shippers; on a developer's console plain text reads better.
    names = [f"{env_prefix(service)}LOG_JSON" for service in SERVICE_NAMES]
    return {name: os.environ.get(name, "false") for name in names}


def _print_table(
    console: Console, platform: Platform, infra: Infrastructure, data_dir: Path, wanted: Sequence[str]
) -> None:
    rows = [("service", "url", "docs")]
    rows += [(s, platform.url(s), f"{platform.url(s)}/docs") for s in platform.services]
    width = max(len(row[1]) for row in rows) + 2
    lines = ["", "Clearway is running (Ctrl-C to stop)", ""]
    if "console" in platform.services:
        lines += [f"  Operator console: {platform.url('console')}  (sign in with one of the keys below)", ""]
    lines += [f"  {name:<16}{url:<{width}}{docs}" for name, url, docs in rows]
    skipped = [s for s in wanted if s not in platform.services]
    if skipped:
        lines += [f"  (not started, no clearway.<name>.main.create_app yet: {', '.join(skipped)})"]
    lines += [
        "",
        f"  {'PostgreSQL':<16}{infra.postgres_server_url}",
        f"  {'Kafka':<16}{infra.kafka_bootstrap_servers}",
        f"  {'API key':<16}{platform.api_key}   (dev-admin)",
        f"  {'Approver key':<16}{platform.approver_api_key}   (dev-approver: the second person of dual approval)",
        f"  {'Viewer key':<16}{platform.viewer_api_key}   (dev-viewer: read-only)",
        f"  {'User token':<16}make user-token IDENTITY=<identity id>   (one hour, for that ledger identity)",
        f"  {'logs':<16}{data_dir / 'logs'}",
        "",
    ]
    console.say("\n".join(lines))


def _watch(console: Console, platform: Platform) -> None:
    """Sleep until interrupted, reporting (once) any service that dies on its own."""
    reported: set[str] = set()
    while True:
        time.sleep(_WATCH_INTERVAL_S)
        for service in platform.services:
            if service not in reported and not platform.is_running(service):
                reported.add(service)
                console.say(
                    f"!! {service} exited; the rest keeps running. Last lines of {platform.log_path(service)}:\n"
                    f"{log_tail(platform.log_path(service), 20)}"
                )


def run(
    data_dir: Path,
    services: Sequence[str] = SERVICE_NAMES,
    *,
    console: Console | None = None,
    stream_logs: bool = True,
    ready_timeout_s: float = 60.0,
) -> int:
    """`make run`. Returns the process exit code."""
    console = console or Console()
    data_dir = data_dir.resolve()
    infra: Infrastructure | None = None
    platform: Platform | None = None
    try:
        with _foreground_signals(), data_dir_lock(data_dir):
            try:
                stopped = stop_stale_children(data_dir)
                if stopped:
                    console.say(f"stopped {stopped} process(es) left by an earlier run")
                api_key = load_or_create_api_key(data_dir)
                user_token_secret = load_or_create_user_token_secret(data_dir)
                approver_key = load_or_create_approver_key(data_dir)
                viewer_key = load_or_create_viewer_key(data_dir)
                infra = start_infrastructure(data_dir, console)
                ports, notes = service_ports()
                for note in [*infra.notes, *notes]:
                    console.say(f"note: {note}")
                console.say(f"starting {', '.join(services)}")
                platform = start_platform(
                    postgres_server_url=infra.postgres_server_url,
                    kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
                    services=services,
                    ports=ports,
                    work_dir=data_dir,
                    database_prefix=DATABASE_PREFIX,
                    api_key=api_key,
                    user_token_secret=user_token_secret,
                    approver_api_key=approver_key,
                    viewer_api_key=viewer_key,
                    test_mode=False,
                    require_all=False,
                    console=console,
                    extra_env=_console_log_env() if stream_logs else {},
                    stream_logs=stream_logs,
                    ready_timeout_s=ready_timeout_s,
                )
                children = [pid for pid in (platform.pids() + ([infra.broker.pid] if infra.broker else [])) if pid]
                record_children(data_dir, children)
                _print_table(console, platform, infra, data_dir, services)
                _watch(console, platform)
            except KeyboardInterrupt:
                console.say("\nstopping Clearway ...")
                return 0
            except Exception as error:
                console.say(f"\nClearway failed to start: {error}")
                return 1
            finally:
                _shield_shutdown()
                if platform is not None:
                    platform.stop()
                if infra is not None:
                    infra.stop()
                pid_file(data_dir).unlink(missing_ok=True)
                console.say("stopped")
    except AlreadyRunningError as error:
        console.say(str(error))
        return 1
    return 0


def _export_lines(infra: Infrastructure, api_key: str, user_token_secret: str, approver_key: str) -> list[str]:
    server = infra.postgres_server_url
    exports = {
        "CLEARWAY_DATABASE_URL": server,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "CLEARWAY_DEV_API_KEY": api_key,
        "CLEARWAY_USER_TOKEN_SECRET": user_token_secret,
        "CLEARWAY_DEV_APPROVER_API_KEY": approver_key,
    }
    ports, _ = service_ports()
    for service in SERVICE_NAMES:
        if has_database(service):
            exports[f"{env_prefix(service)}DATABASE_URL"] = with_database(
                server, f"{DATABASE_PREFIX}_{service}", driver="asyncpg"
            )
        exports[f"CLEARWAY_{service.upper()}_URL"] = service_url(ports[service])
    return [f"export {name}={value}" for name, value in exports.items()]


def up(data_dir: Path, *, console: Console | None = None) -> int:
    """`make dev`: infrastructure, databases and topics only; prints `export` lines and waits."""
    console = console or Console()
    data_dir = data_dir.resolve()
    infra: Infrastructure | None = None
    try:
        with _foreground_signals(), data_dir_lock(data_dir):
            try:
                api_key = load_or_create_api_key(data_dir)
                user_token_secret = load_or_create_user_token_secret(data_dir)
                approver_key = load_or_create_approver_key(data_dir)
                infra = start_infrastructure(data_dir, console)
                if infra.broker is not None:
                    record_children(data_dir, [infra.broker.pid or 0])
                create_databases(infra.postgres_server_url, [f"{DATABASE_PREFIX}_{s}" for s in DATABASE_SERVICES])
                topics = create_catalogue_topics(infra.kafka_bootstrap_servers)
                console.say(f"topics: {'no catalogue yet' if topics is None else f'{len(topics)} ready'}")
                for note in infra.notes:
                    console.say(f"note: {note}")
                console.say("\n".join(["", "# infrastructure is up (Ctrl-C to stop); in another shell:"]))
                console.say("\n".join(_export_lines(infra, api_key, user_token_secret, approver_key)) + "\n")
                while True:
                    time.sleep(_WATCH_INTERVAL_S)
            except KeyboardInterrupt:
                console.say("\nstopping infrastructure ...")
                return 0
            except Exception as error:
                console.say(f"\ninfrastructure failed to start: {error}")
                return 1
            finally:
                _shield_shutdown()
                if infra is not None:
                    infra.stop()
                pid_file(data_dir).unlink(missing_ok=True)
                console.say("stopped")
    except AlreadyRunningError as error:
        console.say(str(error))
        return 1
    return 0
