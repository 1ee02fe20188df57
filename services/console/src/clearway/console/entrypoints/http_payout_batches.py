"""Payout batches and their pain.001 download.

The download is a POST (with the CSRF token), not a link: issuing the file closes the batch in
payout, and a GET must not change anything (a prefetch or a crawler would). It is offered to the
roles payout lets issue it; payout still decides.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import Api, CheckedSession, Cursor, SessionDep, redirect, render, render_list
from clearway.console.views import payout_batches

router = APIRouter(prefix="/payouts/batches", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def batches(
    request: Request,
    session: SessionDep,
    api: Api,
    starting_after: Cursor = None,
) -> HTMLResponse:
    return await render_list(
        request, "payout_batches.html", session, api, payout_batches.BATCHES_LIST, {}, starting_after
    )


@router.get("/{batch_id}", response_class=HTMLResponse)
async def batch(request: Request, batch_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await payout_batches.batch(api, session.api_key, batch_id)
    return render(request, "payout_batch.html", session, batch=found)


@router.post("/{batch_id}/pain001")
async def pain001(batch_id: str, session: CheckedSession, api: Api) -> Response:
    try:
        document = await payout_batches.pain001(api, session.api_key, batch_id)
    except ServiceRefused as refused:
        session.flash("error", f"Payout refused the pain.001 file: {refused.detail}")
        return redirect(f"/payouts/batches/{quote(batch_id)}")
    filename = document.filename or f"{batch_id}.pain001.xml"
    return Response(
        document.content,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
