"""Reconciliation's daily report per link (with the CSV passed through) and pending clearing accounts.

Read-only: every role reconciliation lets read may see them, so nothing here is role-gated beyond
what reconciliation answers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from clearway.console.entrypoints.web import Api, SessionDep, render
from clearway.console.views import recon_reports
from clearway.console.views import reconciliation as recon

router = APIRouter(prefix="/reconciliation", include_in_schema=False)
LinkId = Annotated[str | None, Query(max_length=100)]


@router.get("/report", response_class=HTMLResponse)
async def report(
    request: Request, session: SessionDep, api: Api, link_id: LinkId = None, day: date | None = None
) -> HTMLResponse:
    links = await recon.links(api, session.api_key)
    chosen = link_id or (links[0]["id"] if links else None)
    found = await recon_reports.daily_report(api, session.api_key, chosen, day) if chosen else None
    return render(request, "recon_report.html", session, links=links, link_id=chosen, day=day, report=found)


@router.get("/report.csv")
async def report_csv(
    session: SessionDep, api: Api, link_id: Annotated[str, Query(max_length=100)], day: date
) -> Response:
    document = await recon_reports.daily_report_csv(api, session.api_key, link_id, day)
    # The service names the file; a fallback keeps a download from being called "report.csv".
    filename = document.filename or f"reconciliation-{link_id}-{day.isoformat()}.csv"
    return Response(
        document.content,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/clearing-accounts", response_class=HTMLResponse)
async def clearing_accounts(request: Request, session: SessionDep, api: Api, ledger_id: LinkId = None) -> HTMLResponse:
    ledgers = recon_reports.ledgers_of(await recon.links(api, session.api_key))
    chosen = ledger_id or (ledgers[0] if ledgers else None)
    rows = await recon_reports.pending_clearing_accounts(api, session.api_key, chosen) if chosen else []
    return render(request, "recon_clearing.html", session, ledgers=ledgers, ledger_id=chosen, rows=rows)
