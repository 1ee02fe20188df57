"""Funding routes: invoices (JSON and PDF), link-deposit, cancel; and the workspace's settings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from clearway.funding.domain.fundings import Funding, FundingStatus, Recipient
from clearway.funding.entrypoints.dependencies import ContextDep, Reader, WorkspaceAdmin, Writer, workspace_id
from clearway.funding.entrypoints.schemas_fundings import (
    FundingCreate,
    FundingListParams,
    FundingOut,
    InvoiceOut,
    LinkDeposit,
    WorkspaceOut,
    WorkspaceUpdate,
)
from clearway.funding.service import fundings, invoices, linking, workspaces
from clearway.funding.service.context import FundingContext
from clearway.platform.idempotency import IDEMPOTENCY_KEY_HEADER
from clearway.platform.pagination import Page

router = APIRouter(tags=["fundings"])
PDF_MEDIA_TYPE = "application/pdf"


def _out(context: FundingContext, funding: Funding) -> FundingOut:
    return FundingOut.from_invoice(invoices.invoice_for(context, funding))


@router.post("/funding", status_code=status.HTTP_201_CREATED)
async def create_funding(body: FundingCreate, context: ContextDep, principal: Writer, request: Request) -> FundingOut:
    new = fundings.NewFunding(
        recipient=Recipient(name=body.recipient.name, email=str(body.recipient.email)),
        payable_ids=tuple(body.payable_ids or ()),
        amount_minor=body.amount_minor,
        currency=body.currency,
    )
    # Scoped to the principal, as the platform scopes the key's stored answer.
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    request_key = f"{principal.name}:{key}" if key else None
    funding = await fundings.create_funding(
        context, workspace_id(principal), principal.name, new, request_key=request_key
    )
    return _out(context, funding)


@router.get("/fundings")
async def list_fundings(
    context: ContextDep, principal: Reader, params: Annotated[FundingListParams, Query()]
) -> Page[FundingOut]:
    found = await fundings.list_fundings(
        context,
        workspace_id(principal),
        status=params.status,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([_out(context, funding) for funding in found], params.limit)


@router.get("/funding/{funding_id}")
async def get_funding(funding_id: str, context: ContextDep, principal: Reader) -> FundingOut:
    return _out(context, await fundings.get_funding(context, workspace_id(principal), funding_id))


@router.get(
    "/funding/{funding_id}/invoice",
    response_model=InvoiceOut,
    responses={200: {"content": {PDF_MEDIA_TYPE: {}}, "description": "The invoice as JSON, or as a PDF document."}},
)
async def get_invoice(
    funding_id: str,
    request: Request,
    context: ContextDep,
    principal: Reader,
    format: Annotated[Literal["json", "pdf"] | None, Query(description="Or send `Accept: application/pdf`.")] = None,
) -> Response | InvoiceOut:
    funding = await fundings.get_funding(context, workspace_id(principal), funding_id)
    wants_pdf = format == "pdf" or (format is None and PDF_MEDIA_TYPE in request.headers.get("accept", ""))
    if wants_pdf:
        pdf = await invoices.render_pdf(context, funding)
        disposition = f'inline; filename="{funding.invoice_number}.pdf"'
        return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": disposition})
    return InvoiceOut.from_invoice(invoices.invoice_for(context, funding))


@router.post("/funding/{funding_id}/link-deposit")
async def link_deposit(
    funding_id: str, body: LinkDeposit, context: ContextDep, principal: Writer, response: Response
) -> FundingOut:
    funding = await linking.link_deposit(
        context,
        workspace_id(principal),
        funding_id,
        transfer_id=body.transfer_id,
        processor=body.processor,
        actor=principal.name,
        deposit_owner=principal.workspace_id,
    )
    if funding.status is not FundingStatus.PAID_OUT:
        # Claimed but the ledger did not finish: it completes in the background.
        response.status_code = status.HTTP_202_ACCEPTED
    return _out(context, funding)


@router.post("/funding/{funding_id}/cancel")
async def cancel_funding(funding_id: str, context: ContextDep, principal: Writer) -> FundingOut:
    funding = await fundings.cancel_funding(context, workspace_id(principal), funding_id, principal.name)
    return _out(context, funding)


@router.get("/workspace")
async def get_workspace(context: ContextDep, principal: Reader) -> WorkspaceOut:
    return WorkspaceOut.from_domain(await workspaces.workspace_settings(context, workspace_id(principal)))


@router.patch("/workspace")
async def update_workspace(body: WorkspaceUpdate, context: ContextDep, principal: WorkspaceAdmin) -> WorkspaceOut:
    """Each field given is set; `receiving_account_ids` replaces the list (409 `RECEIVING_ACCOUNT_TAKEN`
    for an account another workspace receives on)."""
    workspace = await workspaces.update_settings(
        context,
        workspace_id(principal),
        auto_link_deposits=body.auto_link_deposits,
        receiving_account_ids=body.receiving_account_ids,
    )
    return WorkspaceOut.from_domain(workspace)
