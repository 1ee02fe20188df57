"""Topic creation from the contracts catalogue (explicit partition counts, never auto-create)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_TOPIC_ALREADY_EXISTS = 36
_REPLICATION_FACTOR = 1  # local stacks and test brokers have a single node
_CREATE_BATCH_MAX = 100


class TopicCreationError(RuntimeError):
    """The broker refused to create a topic."""


@dataclass(frozen=True)
class TopicToCreate:
    name: str
    partitions: int


def catalogue_topics(*, include_dead_letter: bool = True) -> list[TopicToCreate] | None:
    """Every catalogue topic (and its `<name>.dlq`), or None when the catalogue is not available."""
    try:
        module = importlib.import_module("clearway.contracts.catalogue")
    except ModuleNotFoundError as error:
        if error.name in ("clearway.contracts.catalogue", "clearway.contracts"):
            return None
        raise
    catalogue = module.CATALOGUE
    specs: Iterable[object] = catalogue.values() if isinstance(catalogue, Mapping) else catalogue
    topics: list[TopicToCreate] = []
    for spec in specs:
        name, partitions = str(getattr(spec, "name")), int(getattr(spec, "partitions"))  # noqa: B009
        assert partitions >= 1, (name, partitions)
        topics.append(TopicToCreate(name, partitions))
        if include_dead_letter:
            topics.append(TopicToCreate(f"{name}.dlq", partitions))
    return topics


async def create_topics(bootstrap_servers: str, topics: Iterable[TopicToCreate], timeout_s: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created now."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    wanted = {topic.name: topic for topic in topics}
    timeout_ms = int(timeout_s * 1000)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for name, topic in sorted(wanted.items()) if name not in existing]
        for start in range(0, len(missing), _CREATE_BATCH_MAX):
            batch = missing[start : start + _CREATE_BATCH_MAX]
            response = await admin.create_topics(
                [NewTopic(t.name, num_partitions=t.partitions, replication_factor=_REPLICATION_FACTOR) for t in batch],
                timeout_ms=timeout_ms,
            )
            for topic_error in response.topic_errors:
                name, code = topic_error[0], topic_error[1]
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise TopicCreationError(f"creating topic {name!r} failed with Kafka error code {code}")
        return [topic.name for topic in missing]
    finally:
        await admin.close()
