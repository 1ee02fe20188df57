"""Tables every service database carries: the transactional outbox, the consumer inbox and the
dead letters its consumers gave up on.

Other platform modules (idempotency keys, ...) register their tables on `platform_metadata`
too, so one call in a service's first migration creates all of them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

platform_metadata = MetaData()

# `id` is the publish order; rows stay after publishing so `replay` can send them again.
outbox = Table(
    "outbox",
    platform_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("message_key", Text, nullable=True),
    Column("event_type", Text, nullable=False),
    # CloudEvents attributes (id, source, type, specversion, time, subject, correlationid,
    # causationid); the Kafka adapter turns each into a `ce_<name>` header.
    Column("headers", JSONB, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
)

# The relay only ever scans unpublished rows; a partial index keeps that scan small while the
# table keeps its published history.
Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))

# One row per (consumer, event) already handled: a redelivered event hits the primary key.
inbox = Table(
    "inbox",
    platform_metadata,
    Column("consumer", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
)

# One row per record a consumer group sent to `<topic>.dlq` (clearway.platform.dead_letters): what
# an operator lists and counts, kept across restarts (a metric counter is not). The record's place
# in its partition is unique, so a redelivery after a crash between the row and the commit, or a
# repeat dead-lettering, stays one row. Only a bounded, redacted preview of the payload is kept.
dead_letters = Table(
    "dead_letters",
    platform_metadata,
    Column("id", Text, primary_key=True),  # `dlq_<ulid>`: sorts by time, the list's cursor
    Column("group_id", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("message_key", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("event_id", Text, nullable=True),  # ce_id; None when the record had no CloudEvents headers
    Column("event_type", Text, nullable=True),  # ce_type
    Column("headers", JSONB, nullable=False),  # the record's ce_* headers (dead-letter ones aside), redacted
    Column("payload_preview", Text, nullable=True),  # None: the record had no value
    Column("payload_bytes", Integer, nullable=False),
    Column("dead_lettered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("group_id", "topic", "partition", "offset", name="uq_dead_letters_position"),
)
Index("ix_dead_letters_topic_id", dead_letters.c.topic, dead_letters.c.id)

OUTBOX_NOTIFY_CHANNEL = "clearway_outbox"
