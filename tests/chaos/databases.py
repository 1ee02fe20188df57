"""Read the services' own databases: what a chaos run's invariants are checked against."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from clearway.devstack.stack import Platform

DATABASE_SERVICES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation")


@contextlib.asynccontextmanager
async def connected(platform: Platform, service: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(platform.database_url(service).replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()


async def undelivered_events(platform: Platform) -> list[str]:
    """Events some service's outbox holds that a consumer of their topic has not handled yet.

    A consumer's inbox row per event is how the platform applies each event once; an outbox row
    still unpublished, or an event of a topic a consumer reads missing from its inbox, is an
    event not (yet) delivered. Empty once everything sent has been applied.
    """
    outboxes: dict[str, list[tuple[str, str]]] = {}
    inboxes: dict[str, dict[str, set[str]]] = {}
    findings: list[str] = []
    for service in DATABASE_SERVICES:
        async with connected(platform, service) as db:
            rows = await db.fetch("SELECT event_id, topic, published_at FROM outbox")
            outboxes[service] = [(row["event_id"], row["topic"]) for row in rows]
            unpublished = sum(1 for row in rows if row["published_at"] is None)
            if unpublished:
                findings.append(f"{service}: {unpublished} outbox events unpublished")
            consumed: dict[str, set[str]] = {}
            for row in await db.fetch("SELECT consumer, topic, event_id FROM inbox"):
                # An inbox records `<source>#<id>` (`IncomingEvent.inbox_id`; ids are unique per source only).
                event_id = row["event_id"].rsplit("#", 1)[-1]
                consumed.setdefault(f"{service}/{row['consumer']}|{row['topic']}", set()).add(event_id)
            inboxes[service] = consumed
    for consumed in inboxes.values():
        for name, event_ids in consumed.items():
            topic = name.split("|", 1)[1]
            missing = [e for events in outboxes.values() for e, t in events if t == topic and e not in event_ids]
            if missing:
                findings.append(f"{name.split('|')[0]} has not applied {len(missing)} {topic} events")
    return findings


async def event_counts(platform: Platform) -> dict[str, int]:
    """Outbox rows (all, published), inbox rows and dead letters, summed over every service."""
    counts = {"outbox": 0, "published": 0, "inbox": 0, "dead letters": 0}
    for service in DATABASE_SERVICES:
        async with connected(platform, service) as db:
            counts["outbox"] += await db.fetchval("SELECT count(*) FROM outbox")
            counts["published"] += await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
            counts["inbox"] += await db.fetchval("SELECT count(*) FROM inbox")
            counts["dead letters"] += await db.fetchval("SELECT count(*) FROM dead_letters")
    return counts


async def dead_letter_kinds(platform: Platform, most: int = 5) -> list[str]:
    """The most frequent dead letters, `service topic: reason (count)`, for a failed check to name."""
    kinds: list[tuple[int, str]] = []
    for service in DATABASE_SERVICES:
        async with connected(platform, service) as db:
            rows = await db.fetch(
                "SELECT topic, left(reason, 160) AS reason, count(*) AS n FROM dead_letters "
                "GROUP BY topic, left(reason, 160)"
            )
        kinds += [(row["n"], f"{service} {row['topic']}: {row['reason']} ({row['n']})") for row in rows]
    return [kind for _, kind in sorted(kinds, reverse=True)[:most]]
