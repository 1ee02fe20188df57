"""Payout pages: withdrawals by status, and the dual-approval flow (request, approve, reject).

The second approver must be another principal: payout enforces it; the page only avoids offering
a decision to the person who asked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import Api, CheckedSession, Cursor, SessionDep, redirect, render_list
from clearway.console.views import payout

router = APIRouter(prefix="/payouts", include_in_schema=False)


@router.get("/withdrawals", response_class=HTMLResponse)
async def withdrawals(
    request: Request,
    session: SessionDep,
    api: Api,
    status: Annotated[str | None, Query(max_length=40)] = "pending_approval",
    starting_after: Cursor = None,
) -> HTMLResponse:
    requests = await payout.pending_requests_by_withdrawal(api, session.api_key)
    values = {"status": status, "statuses": payout.WITHDRAWAL_STATUSES, "requests": requests}
    filters = {"status": status}
    return await render_list(
        request, "payout_withdrawals.html", session, api, payout.WITHDRAWALS_LIST, filters, starting_after, **values
    )


@router.get("/approvals", response_class=HTMLResponse)
async def approvals(
    request: Request,
    session: SessionDep,
    api: Api,
    status: Annotated[str | None, Query(max_length=40)] = "pending",
    starting_after: Cursor = None,
) -> HTMLResponse:
    filters = {"status": status}
    return await render_list(
        request, "payout_approvals.html", session, api, payout.APPROVALS_LIST, filters, starting_after, status=status
    )


@router.post("/withdrawals/{withdrawal_id}/settlement-request")
async def request_settlement(withdrawal_id: str, session: CheckedSession, api: Api) -> RedirectResponse:
    try:
        created = await payout.request_settlement(api, session.api_key, withdrawal_id)
    except ServiceRefused as refused:
        session.flash("error", f"Payout refused the settlement request: {refused.detail}")
        return redirect("/payouts/withdrawals")
    session.flash("ok", f"Settlement of {withdrawal_id} requested ({created['id']}); another approver must decide.")
    return redirect("/payouts/approvals")


@router.post("/approvals/{approval_id}/approve")
async def approve(approval_id: str, session: CheckedSession, api: Api) -> RedirectResponse:
    try:
        decided = await payout.approve(api, session.api_key, approval_id)
    except ServiceRefused as refused:
        session.flash("error", f"Payout refused the approval: {refused.detail}")
        return redirect("/payouts/approvals")
    session.flash("ok", f"Approved {approval_id}: withdrawal {decided['withdrawal_id']} will be paid out.")
    return redirect("/payouts/approvals")


@router.post("/approvals/{approval_id}/reject")
async def reject(
    approval_id: str,
    session: CheckedSession,
    api: Api,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    if not reason.strip():
        session.flash("error", "A rejection needs a reason.")
        return redirect("/payouts/approvals")
    try:
        await payout.reject(api, session.api_key, approval_id, reason.strip())
    except ServiceRefused as refused:
        session.flash("error", f"Payout refused the rejection: {refused.detail}")
        return redirect("/payouts/approvals")
    session.flash("ok", f"Rejected {approval_id}: the reserved amount goes back to the wallet.")
    return redirect("/payouts/approvals?status=rejected")
