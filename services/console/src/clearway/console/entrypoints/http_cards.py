"""Card pages (read-only): card accounts, one account's figures, authorizations and statements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from clearway.console.entrypoints.web import Api, Cursor, SessionDep, render, render_list
from clearway.console.views import cards

router = APIRouter(prefix="/cards", include_in_schema=False)


@router.get("/accounts", response_class=HTMLResponse)
async def accounts(
    request: Request,
    session: SessionDep,
    api: Api,
    identity_id: Annotated[str | None, Query(max_length=200)] = None,
    starting_after: Cursor = None,
) -> HTMLResponse:
    filters = {"identity_id": identity_id}
    return await render_list(
        request, "cards_accounts.html", session, api, cards.ACCOUNTS, filters, starting_after, identity_id=identity_id
    )


@router.get("/accounts/{card_account_id}", response_class=HTMLResponse)
async def account(request: Request, card_account_id: str, session: SessionDep, api: Api) -> HTMLResponse:
    found = await cards.account(api, session.api_key, card_account_id)
    return render(request, "cards_account.html", session, **found)


@router.get("/accounts/{card_account_id}/statements/{number}.pdf")
async def statement_pdf(
    card_account_id: str, number: Annotated[int, Path(ge=0)], session: SessionDep, api: Api
) -> Response:
    pdf = await cards.statement_pdf(api, session.api_key, card_account_id, number)
    disposition = f'inline; filename="statement-{card_account_id}-{number}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
