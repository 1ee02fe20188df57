"""Pytest fixtures for real infrastructure (auto-loaded via `-p clearway.devstack.pytest_plugin`).

Contract other tests rely on (names, scopes and types never change):

- `postgres_server_url` (session): libpq URL of a server with a superuser, e.g.
  `postgresql://postgres@127.0.0.1:5432/postgres`.
- `kafka_bootstrap_servers` (session): `host:port` of a Kafka-protocol broker.
- `make_database` (function): `async (prefix: str) -> str` creates a fresh empty database
  and returns its SQLAlchemy asyncpg URL (`postgresql+asyncpg://...`); dropped at session end.
- `make_shared_database` (session): the same, for module-scoped fixtures that share a database.
- `unique_topic` (function): `(base: str) -> str` returns a topic name unique to the test.
- `running_platform` (session): a `clearway.devstack.stack.Platform` with every service (the
  five with databases and the operator console) running on free ports against the session's
  infrastructure (for `e2e` tests; started on first request only).

Infrastructure comes from, in order: `CLEARWAY_DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS`,
testcontainers when a Docker engine answers, else the embedded stack (one PostgreSQL and one
broker per session, on free ports under a temp dir, stopped at session end). Force one with
`CLEARWAY_TEST_INFRA=env|docker|embedded`. Each piece starts only when a test needs it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from clearway.devstack.databases import with_database
from clearway.devstack.infra_sources import InfraKind, InfraUnavailableError, Provided, provide_broker, provide_postgres
from clearway.devstack.stack import Platform, start_platform


class _SessionWorkDir:
    """One temp dir per session for the embedded servers, created only if one is needed."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def __call__(self) -> Path:
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="clearway-test-"))
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


@pytest.fixture(scope="session")
def _clearway_work_dir() -> Iterator[_SessionWorkDir]:
    work_dir = _SessionWorkDir()
    yield work_dir
    work_dir.remove()


def _provided(provide: Callable[[Callable[[], Path]], Provided], work_dir: _SessionWorkDir) -> Provided:
    try:
        return provide(work_dir)
    except InfraUnavailableError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def _clearway_postgres(_clearway_work_dir: _SessionWorkDir) -> Iterator[Provided]:
    provided = _provided(provide_postgres, _clearway_work_dir)
    yield provided
    provided.close()


@pytest.fixture(scope="session")
def _clearway_broker(_clearway_work_dir: _SessionWorkDir) -> Iterator[Provided]:
    provided = _provided(provide_broker, _clearway_work_dir)
    yield provided
    provided.close()


@pytest.fixture(scope="session")
def postgres_server_url(_clearway_postgres: Provided) -> str:
    return _clearway_postgres.address


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(_clearway_broker: Provided) -> str:
    return _clearway_broker.address


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _created_databases(_clearway_postgres: Provided) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    if _clearway_postgres.kind is InfraKind.EMBEDDED or not created:
        return  # the whole throwaway server goes away at session end
    connection = await asyncpg.connect(_clearway_postgres.address)
    try:
        for name in created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _database_maker(postgres_server_url: str, created: list[str]) -> Callable[[str], Awaitable[str]]:
    async def create(prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:10]}".lower()
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return with_database(postgres_server_url, name, driver="asyncpg")

    return create


@pytest_asyncio.fixture(loop_scope="session")
async def make_database(postgres_server_url: str, _created_databases: list[str]) -> Callable[[str], Awaitable[str]]:
    return _database_maker(postgres_server_url, _created_databases)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def make_shared_database(
    postgres_server_url: str, _created_databases: list[str]
) -> Callable[[str], Awaitable[str]]:
    """`make_database` for fixtures wider than one test (a module's running ledger): the same
    fresh, uniquely named database, dropped at session end."""
    return _database_maker(postgres_server_url, _created_databases)


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    return lambda base: f"{base}.t{uuid.uuid4().hex[:8]}"


# Payout asks about a silent payout after 30 s and adopts a crashed request's hold after 10 s;
# the suite waits 3 s instead (the same code paths, shorter clocks). Reconciliation judges a hold
# after 60 s; the suite after 5 s, still longer than payout takes to adopt a hold. Funding asks
# about a silent top-up push after 30 s; the suite after 5 s, still ten times the 500 ms the
# approved-top-up flow's sandbox takes to call back (that flow must be settled by the callback).
E2E_SERVICE_ENV = {
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_AFTER_MS": "5000",
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_INTERVAL_MS": "1000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_AFTER_MS": "3000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_INTERVAL_MS": "1000",
    "CLEARWAY_PAYOUT_RESERVATION_GRACE_MS": "3000",
    "CLEARWAY_PAYOUT_SUBMISSION_GRACE_MS": "3000",
    "CLEARWAY_RECONCILIATION_ORPHAN_HOLD_GRACE_S": "5",
}


# Tansu (the embedded broker) answers a consumer's first JoinGroup to a group only after about half
# its session timeout: 3 s at the services' 6 s default, paid by every app the suite starts, in
# process or not. At 2 s the join takes 1 s; heartbeats (every 500 ms) and the code path are the same.
TEST_KAFKA_SESSION_TIMEOUT_MS = 2_000
SERVICES = ("ledger", "authorization", "funding", "payout", "reconciliation", "console")


@pytest.fixture(scope="session", autouse=True)
def _clearway_fast_group_joins() -> Iterator[None]:
    """Every service's settings built during the session, in process or in a child process (which
    inherits the environment), read the short session timeout unless the environment sets one."""
    with pytest.MonkeyPatch.context() as patch:
        for service in SERVICES:
            name = f"CLEARWAY_{service.upper()}_KAFKA_SESSION_TIMEOUT_MS"
            patch.setenv(name, os.environ.get(name, str(TEST_KAFKA_SESSION_TIMEOUT_MS)))
        yield


@pytest.fixture(scope="session")
def running_platform(
    _clearway_postgres: Provided,
    _clearway_broker: Provided,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """Every service (the console too) on free ports, sharing the session's PostgreSQL and broker."""
    platform = start_platform(
        postgres_server_url=_clearway_postgres.address,
        kafka_bootstrap_servers=_clearway_broker.address,
        work_dir=tmp_path_factory.mktemp("platform"),
        test_mode=True,
        require_all=True,
        # Its own consumer groups: an in-process app of an integration test that shares this broker
        # (and a group name like `funding.transfers`) must never take this platform's partitions.
        consumer_group_prefix=f"e2e-{secrets.token_hex(4)}.",
        extra_env=E2E_SERVICE_ENV,
    )
    try:
        yield platform
    finally:
        platform.stop()
        if _clearway_postgres.kind is not InfraKind.EMBEDDED:
            platform.drop_databases()
