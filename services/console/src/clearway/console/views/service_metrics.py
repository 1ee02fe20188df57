"""What the services' Prometheus `/metrics` say about their event traffic, read server-side.

The services expose three relevant series (clearway.platform):
- `clearway_messages_consumed_total{outcome="dead_lettered"}`: records this process sent to a
  `<topic>.dlq` since it started (a counter: a restart sets it back to zero);
- `clearway_consumer_lag_messages{group,topic,partition}`: records behind each partition's end as of
  the group's last poll (summed here: what the service still has to read);
- `clearway_outbox_lag_seconds`: the age of the oldest event still waiting in the service's outbox
  at the relay's last claim (publishing lag).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from clearway.console.adapters.services_api import ServicesApi

CONSUMED = "clearway_messages_consumed"  # the parser drops a counter's `_total` from the family name
OUTBOX_LAG = "clearway_outbox_lag_seconds"
CONSUMER_LAG = "clearway_consumer_lag_messages"
DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class EventTraffic:
    service: str
    reachable: bool
    dead_lettered: int | None  # None: the service has no consumers
    outbox_lag_s: float | None  # None: the service has no outbox relay (or it has not claimed yet)
    consumer_lag: int | None = None  # None: no consumer group has polled records yet


def parse(service: str, exposition: str | None) -> EventTraffic:
    if exposition is None:
        return EventTraffic(service, reachable=False, dead_lettered=None, outbox_lag_s=None)
    try:
        families = list(text_string_to_metric_families(exposition))
    except ValueError:  # not a Prometheus exposition (a proxy's error page): as good as unreachable
        return EventTraffic(service, reachable=False, dead_lettered=None, outbox_lag_s=None)
    dead: float | None = None
    lag: float | None = None
    behind: float | None = None
    for family in families:
        if family.name == CONSUMED:
            dead = (dead or 0) + sum(
                sample.value
                for sample in family.samples
                if sample.name.endswith("_total") and sample.labels.get("outcome") == DEAD_LETTERED
            )
        elif family.name == OUTBOX_LAG:
            values = [sample.value for sample in family.samples]
            lag = max(values) if values else None
        elif family.name == CONSUMER_LAG:
            behind = sum(sample.value for sample in family.samples) if family.samples else None
    return EventTraffic(
        service, True, None if dead is None else int(dead), lag, None if behind is None else int(behind)
    )


async def event_traffic(api: ServicesApi) -> list[EventTraffic]:
    texts = await asyncio.gather(*(api.metrics_text(service) for service in api.services))
    return [parse(service, text) for service, text in zip(api.services, texts, strict=True)]
