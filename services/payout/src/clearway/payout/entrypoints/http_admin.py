"""Admin routes (API keys): seed 001's dual-approval settlement, the limits, and bank batches.

Seed 001's paths (`/mock-settlement-requests`, `/mock-settlement-approvals`) are kept as aliases
so a client written against it works unchanged; the payout is real now, not `mock_b2c`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from clearway.payout.domain.limits import CurrencyLimits
from clearway.payout.entrypoints.dependencies import (
    Admin,
    ContextDep,
    Decider,
    OperatorReader,
    SettlementRequester,
    actor_of,
)
from clearway.payout.entrypoints.schemas_withdrawals import (
    ApprovalListParams,
    ApprovalRequestOut,
    BatchSettlementCreate,
    PayoutBatchOut,
    RejectionCreate,
    SettingsIn,
    SettingsOut,
)
from clearway.payout.service import approvals, batches, limits
from clearway.platform.pagination import Page, PageParams

router = APIRouter(prefix="/api/v1/admin/payments", tags=["payments admin"])


@router.post("/withdrawals/{withdrawal_id}/settlement-requests", status_code=status.HTTP_202_ACCEPTED)
@router.post("/withdrawals/{withdrawal_id}/mock-settlement-requests", status_code=status.HTTP_202_ACCEPTED)
async def request_settlement(
    withdrawal_id: str, principal: SettlementRequester, context: ContextDep
) -> ApprovalRequestOut:
    request = await approvals.request_settlement(context, actor_of(principal), withdrawal_id)
    return ApprovalRequestOut.from_view(await approvals.get_approval_request(context, request.id))


@router.post("/approval-requests/{approval_id}/approvals")
@router.post("/approval-requests/{approval_id}/mock-settlement-approvals")
async def approve(approval_id: str, principal: Decider, context: ContextDep) -> ApprovalRequestOut:
    return ApprovalRequestOut.from_view(await approvals.approve(context, actor_of(principal), approval_id))


@router.post("/approval-requests/{approval_id}/rejections")
async def reject(
    approval_id: str, body: RejectionCreate, principal: Decider, context: ContextDep
) -> ApprovalRequestOut:
    return ApprovalRequestOut.from_view(await approvals.reject(context, actor_of(principal), approval_id, body.reason))


@router.get("/approval-requests")
async def list_approval_requests(
    _: OperatorReader, context: ContextDep, params: Annotated[ApprovalListParams, Query()]
) -> Page[ApprovalRequestOut]:
    found = await approvals.list_approval_requests(
        context, status=params.status, starting_after=params.starting_after, limit=params.fetch_limit
    )
    views = [await approvals.get_approval_request(context, request.id) for request in found]
    return Page.from_overfetch([ApprovalRequestOut.from_view(view) for view in views], params.limit)


@router.get("/approval-requests/{approval_id}")
async def get_approval_request(approval_id: str, _: OperatorReader, context: ContextDep) -> ApprovalRequestOut:
    return ApprovalRequestOut.from_view(await approvals.get_approval_request(context, approval_id))


@router.get("/settings")
async def get_settings(_: Admin, context: ContextDep) -> SettingsOut:
    return SettingsOut.of(dict(await limits.current_limits(context)))


@router.put("/settings")
async def put_settings(body: SettingsIn, principal: Admin, context: ContextDep) -> SettingsOut:
    """Replaces the limits of the currencies named; the others stay as they are."""
    changes = {currency.upper(): CurrencyLimits(**values.model_dump()) for currency, values in body.limits.items()}
    return SettingsOut.of(dict(await limits.replace_limits(context, actor_of(principal), changes)))


@router.get("/payout-batches")
async def list_batches(
    _: OperatorReader, context: ContextDep, params: Annotated[PageParams, Query()]
) -> Page[PayoutBatchOut]:
    found = await batches.list_batches(context, starting_after=params.starting_after, limit=params.fetch_limit)
    return Page.from_overfetch([PayoutBatchOut.from_summary(summary) for summary in found], params.limit)


@router.get("/payout-batches/{batch_id}")
async def get_batch(batch_id: str, _: OperatorReader, context: ContextDep) -> PayoutBatchOut:
    return PayoutBatchOut.from_view(await batches.get_batch(context, batch_id))


@router.get("/payout-batches/{batch_id}/pain001", response_class=Response)
async def download_pain001(batch_id: str, _: SettlementRequester, context: ContextDep) -> Response:
    """The batch as a SEPA pain.001.001.03 file; issuing it closes the batch (repeatable)."""
    body = await batches.pain001_file(context, batch_id)
    return Response(
        content=body,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.pain001.xml"'},
    )


@router.post("/payout-batches/{batch_id}/settlement")
async def settle_batch(
    batch_id: str, body: BatchSettlementCreate, _: SettlementRequester, context: ContextDep
) -> PayoutBatchOut:
    view = await batches.settle_batch(context, batch_id, failed=body.failed, bank_reference=body.bank_reference)
    return PayoutBatchOut.from_view(view)
