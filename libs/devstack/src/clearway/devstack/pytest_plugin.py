"""Pytest fixtures for real infrastructure (first cut: environment URLs only).

Contract other tests rely on (the devstack work extends *how* these are provided,
never their names or types):

- `postgres_server_url` (session): libpq URL of a server with a superuser, e.g.
  `postgresql://postgres@127.0.0.1:5432/postgres`.
- `kafka_bootstrap_servers` (session): `host:port` of a Kafka-protocol broker.
- `make_database` (function): `async (prefix: str) -> str` creates a fresh empty database
  and returns its SQLAlchemy asyncpg URL (`postgresql+asyncpg://...`); dropped at session end.
- `unique_topic` (function): `(base: str) -> str` returns a topic name unique to the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio


def _with_database(url: str, database: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if driver:
        scheme = f"{scheme}+{driver}"
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("CLEARWAY_DATABASE_URL")
    if not url:
        pytest.skip("no PostgreSQL: set CLEARWAY_DATABASE_URL")
    return _with_database(url, "postgres")


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> str:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        pytest.skip("no Kafka: set KAFKA_BOOTSTRAP_SERVERS")
    return servers


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _created_databases(postgres_server_url: str) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    connection = await asyncpg.connect(postgres_server_url)
    try:
        for name in created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest_asyncio.fixture(loop_scope="session")
async def make_database(
    postgres_server_url: str, _created_databases: list[str]
) -> Callable[[str], Awaitable[str]]:
    async def create(prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:10]}".lower()
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        _created_databases.append(name)
        return _with_database(postgres_server_url, name, driver="asyncpg")

    return create


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    return lambda base: f"{base}.t{uuid.uuid4().hex[:8]}"
