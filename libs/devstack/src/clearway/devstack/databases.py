"""Database URLs and idempotent database creation on a PostgreSQL server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from clearway.platform.db import libpq_url

_DATABASE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def with_database(url: str, database: str, *, driver: str | None = None) -> str:
    """`url` pointing at `database`; `driver="asyncpg"` gives the SQLAlchemy form."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if driver:
        scheme = f"{scheme}+{driver}"
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _checked_name(name: str) -> str:
    # Names are interpolated into DDL (identifiers cannot be bound), so only allow a safe shape.
    assert _DATABASE_NAME.fullmatch(name), f"unsafe database name {name!r}"
    return name


async def create_database_if_missing(server_url: str, name: str) -> bool:
    """Create `name` on the server at `server_url` (libpq URL); True when it was created now."""
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await connection.execute(f'CREATE DATABASE "{_checked_name(name)}"')
        except asyncpg.DuplicateDatabaseError:
            return False  # created concurrently: the outcome we wanted
        return True
    finally:
        await connection.close()


async def drop_database(server_url: str, name: str) -> None:
    """Drop `name`, disconnecting its sessions; a missing database is fine."""
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{_checked_name(name)}" WITH (FORCE)')
    finally:
        await connection.close()
