"""Ledger pages (read-only): ledgers, balances, a transaction, search by reference."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from clearway.console.charts import line_chart
from clearway.console.entrypoints.web import Api, SessionDep, redirect, render
from clearway.console.views import balance_history, ledger

router = APIRouter(prefix="/ledger", include_in_schema=False)
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/ledgers", response_class=HTMLResponse)
async def ledgers(request: Request, session: SessionDep, api: Api, offset: Offset = 0) -> HTMLResponse:
    page = await ledger.ledgers_page(api, session.api_key, offset)
    return render(request, "ledger_ledgers.html", session, page=page)


@router.get("/balances", response_class=HTMLResponse)
async def balances(
    request: Request,
    session: SessionDep,
    api: Api,
    ledger_id: Annotated[str | None, Query(max_length=100)] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
    offset: Offset = 0,
) -> HTMLResponse:
    page = await ledger.balances_page(api, session.api_key, ledger_id or None, (currency or "").upper() or None, offset)
    return render(
        request,
        "ledger_balances.html",
        session,
        page=page,
        ledger_id=ledger_id,
        currency=currency,
        amount=ledger.ledger_amount,
    )


@router.get("/balances/{balance_id}", response_class=HTMLResponse)
async def balance(
    request: Request,
    balance_id: str,
    session: SessionDep,
    api: Api,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> HTMLResponse:
    found = await ledger.balance(api, session.api_key, balance_id)
    points = await balance_history.history(api, session.api_key, found, days)
    return render(
        request,
        "ledger_balance.html",
        session,
        found=found,
        points=points,
        chart=line_chart(points),
        days=days,
        amount=ledger.ledger_amount,
    )


@router.get("/transactions", response_class=HTMLResponse)
async def search(
    request: Request,
    session: SessionDep,
    api: Api,
    reference: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    found = await ledger.find_by_reference(api, session.api_key, reference.strip()) if reference else None
    if found is not None:
        return redirect(f"/ledger/transactions/{quote(found['transaction_id'])}")
    return render(request, "ledger_search.html", session, reference=reference, missing=bool(reference))


@router.get("/transactions/{transaction_id}", response_class=HTMLResponse)
async def transaction(request: Request, transaction_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await ledger.transaction(api, session.api_key, transaction_id)
    children = await ledger.referencing(api, session.api_key, transaction_id)
    return render(
        request, "ledger_transaction.html", session, found=found, children=children, amount=ledger.ledger_amount
    )
