"""Payable routes: thin translations between HTTP and the payable use cases.

Seed 000 calls `PUT /payable/{id}/approve`; the issue names `POST`: both are accepted for the
three actions. Mutations honour `Idempotency-Key` (platform middleware).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from clearway.funding.domain.payables import PayableFilters
from clearway.funding.entrypoints.dependencies import Approver, ContextDep, Reader, Writer, workspace_id
from clearway.funding.entrypoints.schemas_payables import PayableCreate, PayableListParams, PayableOut, PayableUpdate
from clearway.funding.service import payables
from clearway.platform.pagination import Page

router = APIRouter(tags=["payables"])


@router.post("/payable", status_code=status.HTTP_201_CREATED)
async def create_payable(body: PayableCreate, context: ContextDep, principal: Writer) -> PayableOut:
    new = payables.NewPayable(
        payee_id=body.payee_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        description=body.description,
        external_id=body.external_id,
        due_date=body.due_date,
        metadata=body.metadata,
    )
    payable = await payables.create_payable(context, workspace_id(principal), principal.name, new)
    return PayableOut.from_domain(payable)


@router.get("/payable/{payable_id}")
async def get_payable(payable_id: str, context: ContextDep, principal: Reader) -> PayableOut:
    return PayableOut.from_domain(await payables.get_payable(context, workspace_id(principal), payable_id))


@router.get("/payables")
async def list_payables(
    context: ContextDep, principal: Reader, params: Annotated[PayableListParams, Query()]
) -> Page[PayableOut]:
    filters = PayableFilters(
        status=params.status,
        payee_id=params.payee_id,
        currency=params.currency,
        external_id=params.external_id,
        funding_id=params.funding_id,
    )
    found = await payables.list_payables(
        context, workspace_id(principal), filters, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([PayableOut.from_domain(payable) for payable in found], params.limit)


@router.put("/payable/{payable_id}")
async def update_payable(payable_id: str, body: PayableUpdate, context: ContextDep, principal: Writer) -> PayableOut:
    payable = await payables.update_payable(context, workspace_id(principal), payable_id, body.changes())
    return PayableOut.from_domain(payable)


@router.post("/payable/{payable_id}/approve")
@router.put("/payable/{payable_id}/approve")
async def approve_payable(payable_id: str, context: ContextDep, principal: Approver) -> PayableOut:
    payable = await payables.approve_payable(context, workspace_id(principal), payable_id, principal.name)
    return PayableOut.from_domain(payable)


@router.post("/payable/{payable_id}/unapprove")
@router.put("/payable/{payable_id}/unapprove")
async def unapprove_payable(payable_id: str, context: ContextDep, principal: Approver) -> PayableOut:
    payable = await payables.unapprove_payable(context, workspace_id(principal), payable_id, principal.name)
    return PayableOut.from_domain(payable)


@router.post("/payable/{payable_id}/cancel")
@router.put("/payable/{payable_id}/cancel")
async def cancel_payable(payable_id: str, context: ContextDep, principal: Writer) -> PayableOut:
    payable = await payables.cancel_payable(context, workspace_id(principal), payable_id, principal.name)
    return PayableOut.from_domain(payable)
