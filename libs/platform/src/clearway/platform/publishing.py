"""Which topics a service may publish: exactly those the contracts catalogue says it produces.

The catalogue (`clearway.contracts.catalogue`) is the one list of producers. Code that writes an
event into a service's outbox checks the topic here, so a service cannot publish a topic the
catalogue does not list it as producing: the write raises inside the caller's transaction instead
of the message reaching consumers nobody told about it. A planned use
(`TopicSpec.planned_producers`) does not count; wiring one means updating the catalogue.

Services name themselves in the CloudEvents `source` of their events as `clearway.<service>`
(the `EVENT_SOURCE` of funding's and the ledger's outbox writers); `service_for_source` reads it back.
"""

from __future__ import annotations

import functools

from clearway.contracts.catalogue import SERVICES, produced_by

EVENT_SOURCE_PREFIX = "clearway."


class TopicNotProducedError(ValueError):
    """A service tried to publish a topic the catalogue does not list it as producing."""


@functools.cache
def published_topics(service: str) -> frozenset[str]:
    """The topics `service` publishes today: its catalogued topics less the planned ones."""
    return frozenset(spec.name for spec in produced_by(service, include_planned=False))


def require_produced_by(service: str, topic: str) -> None:
    """Raise TopicNotProducedError unless the catalogue lists `service` as producing `topic` today."""
    if topic not in published_topics(service):
        raise TopicNotProducedError(
            f"{service} does not produce {topic!r} according to clearway.contracts.catalogue; "
            f"it produces {', '.join(sorted(published_topics(service))) or 'nothing'}"
        )


def service_named_by(source: str) -> str | None:
    """The service a CloudEvents `source` of `clearway.<service>` names, or None for any other source."""
    service = source.removeprefix(EVENT_SOURCE_PREFIX)
    return service if source.startswith(EVENT_SOURCE_PREFIX) and service in SERVICES else None


def require_source_produces(source: str, topic: str) -> None:
    """For an event whose source names a service (`clearway.<service>`): that service must produce
    `topic`. Other sources (tools, tests publishing their own topics) are not a service's outbox."""
    service = service_named_by(source)
    if service is not None:
        require_produced_by(service, topic)


def service_for_source(source: str) -> str:
    """The service whose events carry CloudEvents source `source` (`clearway.<service>`)."""
    service = service_named_by(source)
    if service is None:
        raise ValueError(f"event source {source!r} names no service; expected {EVENT_SOURCE_PREFIX}<service>")
    return service
