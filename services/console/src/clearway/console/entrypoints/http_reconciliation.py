"""Reconciliation pages: unreconciled lines (by link), a line with suggested matches, manual match
and unmatch with a note, breaks and their resolution."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import Api, CheckedSession, Cursor, SessionDep, redirect, render, render_list
from clearway.console.views import reconciliation as recon

router = APIRouter(prefix="/reconciliation", include_in_schema=False)
Note = Annotated[str, Form(max_length=500)]


@router.get("/unreconciled", response_class=HTMLResponse)
async def unreconciled(
    request: Request,
    session: SessionDep,
    api: Api,
    link_id: Annotated[str | None, Query(max_length=100)] = None,
    starting_after: Cursor = None,
) -> HTMLResponse:
    links = await recon.links(api, session.api_key)
    filters = {"link_id": link_id}
    return await render_list(
        request,
        "recon_unreconciled.html",
        session,
        api,
        recon.UNRECONCILED,
        filters,
        starting_after,
        links=links,
        link_id=link_id,
    )


@router.get("/lines/{transaction_id}", response_class=HTMLResponse)
async def line(request: Request, transaction_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await recon.line(api, session.api_key, transaction_id)
    suggestions = await recon.suggestions_for(api, session.api_key, found)
    return render(request, "recon_line.html", session, line=found, suggestions=suggestions)


@router.post("/lines/{transaction_id}/match")
async def match(
    transaction_id: str,
    session: CheckedSession,
    api: Api,
    expectation_id: Annotated[list[str] | None, Form()] = None,
    note: Note = "",
) -> RedirectResponse:
    back = f"/reconciliation/lines/{quote(transaction_id)}"
    if not expectation_id or not note.strip():
        session.flash("error", "Choose at least one expectation and write a note.")
        return redirect(back)
    try:
        created = await recon.match(api, session.api_key, transaction_id, expectation_id, note.strip())
    except ServiceRefused as refused:
        session.flash("error", f"Reconciliation refused the match: {refused.detail}")
        return redirect(back)
    session.flash("ok", f"Matched: {created['id']} ({created['status']}).")
    return redirect(back)


@router.get("/matches/{match_id}", response_class=HTMLResponse)
async def match_detail(request: Request, match_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await recon.get_match(api, session.api_key, match_id)
    return render(request, "recon_match.html", session, match=found)


@router.post("/matches/{match_id}/unmatch")
async def unmatch(match_id: str, session: CheckedSession, api: Api, note: Note = "") -> RedirectResponse:
    back = f"/reconciliation/matches/{quote(match_id)}"
    if not note.strip():
        session.flash("error", "Unmatching needs a note.")
        return redirect(back)
    try:
        await recon.unmatch(api, session.api_key, match_id, note.strip())
    except ServiceRefused as refused:
        session.flash("error", f"Reconciliation refused to unmatch: {refused.detail}")
        return redirect(back)
    session.flash("ok", f"Unmatched {match_id}.")
    return redirect(back)


@router.get("/breaks", response_class=HTMLResponse)
async def breaks(
    request: Request,
    session: SessionDep,
    api: Api,
    open: Annotated[str, Query(pattern="^(true|false)$")] = "true",
    kind: Annotated[str | None, Query(max_length=60)] = None,
    starting_after: Cursor = None,
) -> HTMLResponse:
    values = {"open_only": open == "true", "kind": kind, "kinds": recon.BREAK_KINDS}
    filters = {"open": open, "kind": kind}
    return await render_list(
        request, "recon_breaks.html", session, api, recon.BREAKS, filters, starting_after, **values
    )


@router.get("/breaks/{break_id}", response_class=HTMLResponse)
async def break_detail(request: Request, break_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await recon.get_break(api, session.api_key, break_id)
    return render(request, "recon_break.html", session, found=found)


@router.post("/breaks/{break_id}/resolution")
async def resolve(break_id: str, session: CheckedSession, api: Api, note: Note = "") -> RedirectResponse:
    back = f"/reconciliation/breaks/{quote(break_id)}"
    if not note.strip():
        session.flash("error", "A resolution needs a note.")
        return redirect(back)
    try:
        await recon.resolve_break(api, session.api_key, break_id, note.strip())
    except ServiceRefused as refused:
        session.flash("error", f"Reconciliation refused the resolution: {refused.detail}")
        return redirect(back)
    session.flash("ok", f"Break {break_id} resolved.")
    return redirect(back)
