"""Where the test suite's PostgreSQL and broker come from, in order of preference.

1. URLs in the environment (`CLEARWAY_DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`);
2. testcontainers, when a Docker engine answers a ping within a short timeout;
3. the embedded stack (PostgreSQL from the wheel, Tansu), on free ports under a temp dir.

`CLEARWAY_TEST_INFRA` = `auto` (default), `env`, `docker` or `embedded` forces one source.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from clearway.devstack.broker import EmbeddedBroker
from clearway.devstack.databases import with_database
from clearway.devstack.ports import find_free_port
from clearway.devstack.postgres import EmbeddedPostgres
from clearway.platform.db import libpq_url

DOCKER_PING_TIMEOUT_S = 2.0
POSTGRES_IMAGE = os.environ.get("CLEARWAY_TEST_POSTGRES_IMAGE", "postgres:16-alpine")
KAFKA_IMAGE = os.environ.get("CLEARWAY_TEST_KAFKA_IMAGE", "confluentinc/cp-kafka:7.6.0")
_TEST_POSTGRES_FLAGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"


class InfraKind(StrEnum):
    ENVIRONMENT = "env"
    TESTCONTAINERS = "docker"
    EMBEDDED = "embedded"


class InfraUnavailableError(RuntimeError):
    """The forced source cannot provide this piece of infrastructure."""


@dataclass
class Provided:
    """A running piece of infrastructure: its address, where it came from, how to stop it."""

    address: str
    kind: InfraKind
    close: Callable[[], None]


def _mode() -> str:
    mode = os.environ.get("CLEARWAY_TEST_INFRA", "auto").strip().lower() or "auto"
    if mode not in ("auto", *(kind.value for kind in InfraKind)):
        raise InfraUnavailableError(f"CLEARWAY_TEST_INFRA={mode!r}: use auto, env, docker or embedded")
    return mode


@functools.cache
def docker_engine_answers() -> bool:
    """True when a Docker engine answers a ping quickly; never hangs."""
    try:
        import docker

        client = docker.from_env(timeout=DOCKER_PING_TIMEOUT_S)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no SDK, no socket, refused, timed out: all mean "no Docker"
        return False


def _testcontainers_class(module: str, name: str) -> Any:
    # Newer releases moved the modules under `community` and deprecated the old paths.
    try:
        imported = importlib.import_module(f"testcontainers.community.{module}")
    except ModuleNotFoundError:
        imported = importlib.import_module(f"testcontainers.{module}")
    return getattr(imported, name)


def _choose(env_var: str) -> InfraKind:
    mode = _mode()
    if mode == "auto":
        if os.environ.get(env_var):
            return InfraKind.ENVIRONMENT
        return InfraKind.TESTCONTAINERS if docker_engine_answers() else InfraKind.EMBEDDED
    kind = InfraKind(mode)
    if kind is InfraKind.ENVIRONMENT and not os.environ.get(env_var):
        raise InfraUnavailableError(f"CLEARWAY_TEST_INFRA=env but {env_var} is not set")
    if kind is InfraKind.TESTCONTAINERS and not docker_engine_answers():
        raise InfraUnavailableError("CLEARWAY_TEST_INFRA=docker but no Docker engine answers")
    return kind


def provide_postgres(work_dir: Callable[[], Path]) -> Provided:
    """A PostgreSQL server; `address` is a libpq URL of its `postgres` database as a superuser."""
    kind = _choose("CLEARWAY_DATABASE_URL")
    if kind is InfraKind.ENVIRONMENT:
        url = with_database(libpq_url(os.environ["CLEARWAY_DATABASE_URL"]), "postgres")
        return Provided(url, kind, lambda: None)
    if kind is InfraKind.TESTCONTAINERS:
        PostgresContainer = _testcontainers_class("postgres", "PostgresContainer")
        container = PostgresContainer(POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres")  # noqa: S106 (a throwaway test container)
        container.with_command(_TEST_POSTGRES_FLAGS)
        container.start()
        return Provided(container.get_connection_url(driver=None), kind, container.stop)
    directory = work_dir()
    server = EmbeddedPostgres(
        directory / "pgdata", find_free_port(), test_mode=True, log_path=directory / "postgres.log"
    )
    server.start()
    return Provided(server.url, kind, server.stop)


def provide_broker(work_dir: Callable[[], Path]) -> Provided:
    """A Kafka-protocol broker; `address` is `host:port`."""
    kind = _choose("KAFKA_BOOTSTRAP_SERVERS")
    if kind is InfraKind.ENVIRONMENT:
        return Provided(os.environ["KAFKA_BOOTSTRAP_SERVERS"], kind, lambda: None)
    if kind is InfraKind.TESTCONTAINERS:
        KafkaContainer = _testcontainers_class("kafka", "KafkaContainer")
        container = KafkaContainer(KAFKA_IMAGE).with_kraft()
        container.start()
        return Provided(container.get_bootstrap_server(), kind, container.stop)
    directory = work_dir()
    broker = EmbeddedBroker(find_free_port(), directory / "broker.log")
    broker.start()
    return Provided(broker.bootstrap, kind, broker.stop)
