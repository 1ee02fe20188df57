"""Dead letters: each service's count by topic, one service's list (by topic, paginated, state in
the URL) and one dead letter's detail. Read-only: the services decide who may look."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import Api, Cursor, SessionDep, render, render_list
from clearway.console.views import dead_letters

router = APIRouter(prefix="/dead-letters", include_in_schema=False)
Service = Annotated[str | None, Query(max_length=40)]
Topic = Annotated[str | None, Query(max_length=249)]


@router.get("", response_class=HTMLResponse)
async def dead_letters_list(
    request: Request,
    session: SessionDep,
    api: Api,
    service: Service = None,
    topic: Topic = None,
    starting_after: Cursor = None,
) -> HTMLResponse:
    counts = await dead_letters.counts(api, session.api_key)
    chosen = dead_letters.chosen_service(counts, service)
    topics = sorted(next(item.by_topic for item in counts if item.service == chosen))
    values = {
        "counts": counts,
        "total": dead_letters.total(counts),
        "service": chosen,
        "topic": topic,
        "topics": topics,
    }
    filters = {"topic": topic}
    source = dead_letters.source(chosen)
    return await render_list(request, "dead_letters.html", session, api, source, filters, starting_after, **values)


@router.get("/{service}/{dead_letter_id}", response_class=HTMLResponse)
async def dead_letter_detail(
    request: Request, service: str, dead_letter_id: str, session: SessionDep, api: Api
) -> HTMLResponse:
    if service not in api.services:
        raise ServiceRefused(service, 404, f"The console knows no service called {service}.")
    found = await dead_letters.dead_letter(api, session.api_key, service, dead_letter_id)
    return render(request, "dead_letter.html", session, service=service, found=found)
