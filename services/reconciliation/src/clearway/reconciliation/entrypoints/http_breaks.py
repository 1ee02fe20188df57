"""Monitoring routes: breaks and their resolution, check runs, clearing accounts, the daily report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from clearway.platform.errors import problem_responses
from clearway.platform.pagination import Page
from clearway.reconciliation.entrypoints.dependencies import ContextDep, Reader, Writer
from clearway.reconciliation.entrypoints.schemas_breaks import (
    BreakListParams,
    BreakOut,
    CheckRunOut,
    ClearingAccountOut,
    ClearingAccountParams,
    DailyReportOut,
    ReportParams,
    ResolutionCreate,
)
from clearway.reconciliation.service import breaks, checks, clearing, reports

router = APIRouter(tags=["monitoring"])


@router.get("/breaks")
async def list_breaks(_: Reader, context: ContextDep, params: Annotated[BreakListParams, Query()]) -> Page[BreakOut]:
    found = await breaks.list_breaks(
        context, open_only=params.open, kind=params.kind, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([BreakOut.from_domain(item) for item in found], params.limit)


@router.get("/breaks/{break_id}")
async def get_break(break_id: str, _: Reader, context: ContextDep) -> BreakOut:
    return BreakOut.from_domain(await breaks.get_break(context, break_id))


@router.post("/breaks/{break_id}/resolution")
async def resolve_break(break_id: str, body: ResolutionCreate, principal: Writer, context: ContextDep) -> BreakOut:
    return BreakOut.from_domain(await breaks.resolve_break(context, break_id, actor=principal.name, note=body.note))


@router.post("/checks/runs")
async def run_checks(_: Writer, context: ContextDep) -> CheckRunOut:
    run = await checks.run_checks(context)
    return CheckRunOut(checked=run.checked, breaks_found=run.breaks_found)


@router.get("/clearing-accounts", responses=problem_responses(404))  # an unknown ledger_id
async def list_clearing_accounts(
    _: Reader, context: ContextDep, params: Annotated[ClearingAccountParams, Query()]
) -> dict[str, Any]:
    """The ledger's clearing accounts (pending while non-zero) with how long they have been pending."""
    accounts = await clearing.clearing_accounts(context, params.ledger_id, status=params.status, path=params.path)
    return {"data": [ClearingAccountOut(**account) for account in accounts], "has_more": False}


@router.get("/links/{link_id}/reports/daily", response_model=None)
async def daily_report(
    link_id: str, _: Reader, context: ContextDep, params: Annotated[ReportParams, Query()]
) -> DailyReportOut | Response:
    day = params.day or datetime.now(UTC).date()
    report = await reports.daily_report(context, link_id, day)
    if params.format == "csv":
        return Response(
            reports.as_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{link_id}-{day.isoformat()}.csv"'},
        )
    return DailyReportOut.of(report)
