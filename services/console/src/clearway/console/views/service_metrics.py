"""What the services' Prometheus `/metrics` say about their event traffic, read server-side.

The services expose two relevant series (clearway.platform):
- `clearway_consumer_lag_messages{group,topic,partition}`: records behind each partition's end as of
  the group's last poll (summed here: what the service still has to read);
- `clearway_outbox_lag_seconds`: the age of the oldest event still waiting in the service's outbox
  at the relay's last claim (publishing lag).

Dead letters are not read from here: a process's counter starts again at zero when it restarts.
The services record each one in their database and count them (`views/dead_letters.py`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from clearway.console.adapters.services_api import ServicesApi

OUTBOX_LAG = "clearway_outbox_lag_seconds"
CONSUMER_LAG = "clearway_consumer_lag_messages"


@dataclass(frozen=True)
class EventTraffic:
    service: str
    reachable: bool
    outbox_lag_s: float | None  # None: the service has no outbox relay (or it has not claimed yet)
    consumer_lag: int | None = None  # None: no consumer group has polled records yet


def parse(service: str, exposition: str | None) -> EventTraffic:
    if exposition is None:
        return EventTraffic(service, reachable=False, outbox_lag_s=None)
    try:
        families = list(text_string_to_metric_families(exposition))
    except ValueError:  # not a Prometheus exposition (a proxy's error page): as good as unreachable
        return EventTraffic(service, reachable=False, outbox_lag_s=None)
    lag: float | None = None
    behind: float | None = None
    for family in families:
        if family.name == OUTBOX_LAG:
            values = [sample.value for sample in family.samples]
            lag = max(values) if values else None
        elif family.name == CONSUMER_LAG:
            behind = sum(sample.value for sample in family.samples) if family.samples else None
    return EventTraffic(service, True, lag, None if behind is None else int(behind))


async def event_traffic(api: ServicesApi) -> list[EventTraffic]:
    texts = await asyncio.gather(*(api.metrics_text(service) for service in api.services))
    return [parse(service, text) for service, text in zip(api.services, texts, strict=True)]
