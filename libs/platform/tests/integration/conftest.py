"""Fixtures the platform's integration tests share: a database with the platform's tables, a publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clearway.platform.db import create_engine, create_session_factory
from clearway.platform.kafka import KafkaPublisher
from clearway.platform.tables import platform_metadata


@pytest.fixture
async def engine(make_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[AsyncEngine]:
    database_engine = create_engine(await make_database("platform"), pool_size=5)
    async with database_engine.begin() as connection:
        await connection.run_sync(platform_metadata.create_all)
    yield database_engine
    await database_engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def publisher(kafka_bootstrap_servers: str) -> AsyncIterator[KafkaPublisher]:
    kafka_publisher = KafkaPublisher(kafka_bootstrap_servers)
    await kafka_publisher.start()
    yield kafka_publisher
    await kafka_publisher.stop()
