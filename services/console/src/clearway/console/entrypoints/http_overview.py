"""The overview page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clearway.console.entrypoints.web import Api, SessionDep, render
from clearway.console.views.overview import load_overview

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep, api: Api) -> HTMLResponse:
    return render(request, "overview.html", session, overview=await load_overview(api, session.api_key))
