"""The services' dead letters: what each one's consumers gave up on, as each service recorded them.

Every service that consumes events keeps its dead letters in its own database and answers
`GET /admin/dead-letters` (newest first, cursor-paginated, by topic) and `/admin/dead-letters/count`
(clearway.platform.dead_letters): exact and kept across restarts, unlike a `/metrics` counter. A
list is one service's (a cursor belongs to one service's ids), so the page picks a service.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from clearway.console.adapters.services_api import ServiceRefused, ServicesApi
from clearway.console.views.pages import ListSource

DEAD_LETTERS = "/admin/dead-letters"
PATH = "/dead-letters"


@dataclass(frozen=True)
class ServiceDeadLetters:
    service: str
    total: int | None  # None: the service refused or could not be reached (see `note`)
    by_topic: dict[str, int] = field(default_factory=dict)
    note: str | None = None


async def _count(api: ServicesApi, key: str, service: str) -> ServiceDeadLetters:
    try:
        answer = await api.get(service, f"{DEAD_LETTERS}/count", key)
    except ServiceRefused as refused:
        note = "not allowed for your roles" if refused.is_forbidden else refused.detail
        return ServiceDeadLetters(service, None, note=note)
    return ServiceDeadLetters(service, int(answer["total"]), dict(answer["by_topic"]))


async def counts(api: ServicesApi, key: str) -> list[ServiceDeadLetters]:
    """Each service's count, in the services' order; a refusal is a note, not an error."""
    return list(await asyncio.gather(*(_count(api, key, service) for service in api.services)))


def total(found: list[ServiceDeadLetters]) -> int | None:
    """Across the services that answered; None when none did."""
    known = [item.total for item in found if item.total is not None]
    return sum(known) if known else None


def chosen_service(found: list[ServiceDeadLetters], asked: str | None) -> str:
    """The service asked for, else the first with dead letters, else the first."""
    names = [item.service for item in found]
    assert names, "the console knows at least one service"
    if asked in names:
        assert asked is not None
        return asked
    return next((item.service for item in found if item.total), names[0])


def source(service: str) -> ListSource:
    return ListSource(service, DEAD_LETTERS, PATH, page_params=(("service", service),))


async def dead_letter(api: ServicesApi, key: str, service: str, dead_letter_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(service, f"{DEAD_LETTERS}/{dead_letter_id}", key)
    return found
