"""Database migrations: platform tables inside a service's Alembic history, and running Alembic.

A service's first migration calls `create_platform_tables(op)`; its `env.py` can be just
`run_alembic_env(target_metadata)`; its start-up (or `make migrate`) calls `upgrade_database`.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import re
import threading
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from clearway.platform.db import asyncpg_url, libpq_url
from clearway.platform.tables import dead_letters, platform_metadata

# Platform modules that register tables on `platform_metadata` when imported.
OPTIONAL_TABLE_MODULES = ("clearway.platform.idempotency",)
DATABASE_URL_ATTRIBUTE = "clearway_database_url"
DATABASE_NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _register_optional_tables() -> None:
    for module in OPTIONAL_TABLE_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def create_platform_tables(op: Operations) -> None:
    """Create the outbox, the inbox and every other platform table (online migrations only)."""
    _register_optional_tables()
    platform_metadata.create_all(bind=op.get_bind(), checkfirst=False)


def add_idempotency_owner_column(op: Operations) -> None:
    """Idempotency claims name their process's owner lease (issue 12, defect 4).

    `IF NOT EXISTS`: a database created after this change already has the column from
    `create_platform_tables`, which builds the tables as the code declares them today.
    """
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS owner_id integer")


def drop_idempotency_owner_column(op: Operations) -> None:
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS owner_id")


def create_dead_letters_table(op: Operations) -> None:
    """The dead letters an operator lists and counts (clearway.platform.dead_letters).

    `checkfirst`: a database created after this change already has the table (and its index) from
    `create_platform_tables`, which builds the tables as the code declares them today.
    """
    dead_letters.create(bind=op.get_bind(), checkfirst=True)


def drop_dead_letters_table(op: Operations) -> None:
    dead_letters.drop(bind=op.get_bind(), checkfirst=True)


def drop_platform_tables(op: Operations) -> None:
    _register_optional_tables()
    platform_metadata.drop_all(bind=op.get_bind(), checkfirst=True)


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # ConfigParser interpolates `%`, which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
    config.attributes[DATABASE_URL_ATTRIBUTE] = asyncpg_url(database_url)
    return config


def upgrade_database(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """`alembic upgrade head`, from sync code or from inside a running event loop.

    Alembic environments drive async engines with `asyncio.run`, which cannot nest in a running
    loop; inside one, the upgrade runs on its own thread (blocking the caller until it is done).
    """
    assert migrations_dir.is_dir(), f"no migrations directory at {migrations_dir}"
    config = alembic_config(migrations_dir, database_url)
    if not _loop_running():
        command.upgrade(config, revision)
        return
    failures: list[BaseException] = []

    def upgrade() -> None:
        try:
            command.upgrade(config, revision)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=upgrade, name="alembic-upgrade")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


async def upgrade_database_async(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """`upgrade_database` without blocking the event loop."""
    await asyncio.to_thread(upgrade_database, migrations_dir, database_url, revision)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


MIGRATION_LOCK_KEY = 7_461_202_611  # any constant shared by every migrator of a database


def run_alembic_env(target_metadata: MetaData | None = None, *, default_url: str | None = None) -> None:
    """The whole body of a service's `migrations/env.py`."""
    from alembic import context

    url = (
        context.config.attributes.get(DATABASE_URL_ATTRIBUTE)
        or context.config.get_main_option("sqlalchemy.url")
        or default_url
    )
    assert url, "no database URL: use upgrade_database() or set sqlalchemy.url"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        # Replicas starting together each run `migrate`; the first takes this lock for its whole
        # transaction and the others wait, then find nothing left to do.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run_online() -> None:
        engine = create_async_engine(asyncpg_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_online())


async def ensure_database_exists(server_url: str, name: str) -> bool:
    """Create database `name` on the server unless it exists; True if this call created it."""
    assert DATABASE_NAME_PATTERN.match(name), f"unsafe database name: {name!r}"
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            return False  # created concurrently by another process
        return True
    finally:
        await connection.close()
