"""Replay published outbox events: the relay publishes them again, consumers' inboxes absorb repeats.

    python -m clearway.platform.replay --database-url URL
        (--since-id N | --event-id X | --topic T) [--dry-run]

Filters combine (all must match). Only already-published rows are touched; unpublished ones
are on their way anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from clearway.platform.db import asyncpg_url
from clearway.platform.tables import OUTBOX_NOTIFY_CHANNEL, outbox


def _conditions(*, since_id: int | None, event_id: str | None, topic: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [outbox.c.published_at.is_not(None)]
    if since_id is not None:
        conditions.append(outbox.c.id >= since_id)
    if event_id is not None:
        conditions.append(outbox.c.event_id == event_id)
    if topic is not None:
        conditions.append(outbox.c.topic == topic)
    # Without a filter a slip of the keyboard would re-send a service's whole history.
    assert len(conditions) > 1, "replay needs at least one filter"
    return conditions


async def replay_events(
    engine: AsyncEngine,
    *,
    since_id: int | None = None,
    event_id: str | None = None,
    topic: str | None = None,
    dry_run: bool = False,
) -> int:
    """Mark matching published rows unpublished (or only count them); return how many matched."""
    conditions = _conditions(since_id=since_id, event_id=event_id, topic=topic)
    async with engine.begin() as connection:
        if dry_run:
            count = await connection.scalar(select(func.count()).select_from(outbox).where(*conditions))
            return int(count or 0)
        result = await connection.execute(update(outbox).where(*conditions).values(published_at=None))
        await connection.execute(select(func.pg_notify(OUTBOX_NOTIFY_CHANNEL, "")))
        return int(result.rowcount)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m clearway.platform.replay", description="Re-publish outbox events.")
    parser.add_argument("--database-url", default=os.environ.get("CLEARWAY_DATABASE_URL"))
    parser.add_argument("--since-id", type=int, help="replay rows with outbox id >= this")
    parser.add_argument("--event-id", help="replay the event with this id")
    parser.add_argument("--topic", help="replay this topic's events")
    parser.add_argument("--dry-run", action="store_true", help="only count matching rows")
    return parser


async def _main(arguments: argparse.Namespace) -> int:
    engine = create_async_engine(asyncpg_url(arguments.database_url))
    try:
        return await replay_events(
            engine,
            since_id=arguments.since_id,
            event_id=arguments.event_id,
            topic=arguments.topic,
            dry_run=arguments.dry_run,
        )
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if not arguments.database_url:
        parser.error("--database-url (or CLEARWAY_DATABASE_URL) is required")
    if arguments.since_id is None and arguments.event_id is None and arguments.topic is None:
        parser.error("give at least one of --since-id, --event-id, --topic")
    count = asyncio.run(_main(arguments))
    verb = "would be" if arguments.dry_run else "were"
    print(f"{count} published events {verb} queued for re-publishing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
