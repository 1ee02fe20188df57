"""Funding pages: payables and fundings by status, a funding's timeline, and linking a deposit to it
(offered to the roles funding lets write; funding decides)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import (
    Api,
    CheckedSession,
    Cursor,
    SessionDep,
    StatusFilter,
    redirect,
    render,
    render_list,
)
from clearway.console.views import funding, funding_timeline

router = APIRouter(prefix="/funding", include_in_schema=False)


@router.get("/payables", response_class=HTMLResponse)
async def payables(
    request: Request, session: SessionDep, api: Api, status: StatusFilter = None, starting_after: Cursor = None
) -> HTMLResponse:
    values = {"status": status, "statuses": funding.PAYABLE_STATUSES, "kind": "payables", "title": "Payables"}
    filters = {"status": status}
    return await render_list(
        request, "funding_list.html", session, api, funding.PAYABLES, filters, starting_after, **values
    )


@router.get("/fundings", response_class=HTMLResponse)
async def fundings(
    request: Request, session: SessionDep, api: Api, status: StatusFilter = None, starting_after: Cursor = None
) -> HTMLResponse:
    values = {"status": status, "statuses": funding.FUNDING_STATUSES, "kind": "fundings", "title": "Fundings"}
    filters = {"status": status}
    return await render_list(
        request, "funding_list.html", session, api, funding.FUNDINGS, filters, starting_after, **values
    )


@router.get("/fundings/{funding_id}", response_class=HTMLResponse)
async def funding_detail(request: Request, funding_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await funding_timeline.funding(api, session.api_key, funding_id)
    deposits = await funding_timeline.deposits_to_link(api, session.api_key, found)
    return render(
        request,
        "funding_detail.html",
        session,
        funding=found,
        timeline=funding_timeline.timeline(found),
        deposits=deposits,
    )


@router.post("/fundings/{funding_id}/link-deposit")
async def link_deposit(
    funding_id: str,
    session: CheckedSession,
    api: Api,
    transfer_id: Annotated[str, Form(max_length=200)] = "",
    processor: Annotated[str | None, Form(max_length=100)] = None,
) -> RedirectResponse:
    back = f"/funding/fundings/{quote(funding_id)}"
    if not transfer_id.strip():
        session.flash("error", "Choose a deposit to link.")
        return redirect(back)
    try:
        linked = await funding_timeline.link_deposit(
            api, session.api_key, funding_id, transfer_id.strip(), processor or None
        )
    except ServiceRefused as refused:
        session.flash("error", f"Funding refused to link the deposit: {refused.detail}")
        return redirect(back)
    session.flash("ok", f"Deposit {transfer_id} linked: the funding is {linked['status'].replace('_', ' ')}.")
    return redirect(back)
