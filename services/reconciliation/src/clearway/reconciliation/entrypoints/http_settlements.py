"""Batch and card-network settlement routes (seed 003's batch send and batches of batches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from clearway.platform.errors import problem_responses
from clearway.platform.pagination import Page
from clearway.reconciliation.entrypoints.dependencies import ContextDep, Reader, Writer
from clearway.reconciliation.entrypoints.schemas_settlements import (
    BatchCreate,
    BatchListParams,
    BatchOut,
    ClearingFileCreate,
    ClearingOut,
    SettlementFileCreate,
    SettlementOut,
)
from clearway.reconciliation.service import batches, card_settlements, reconcile_link

router = APIRouter(tags=["settlements"])
# The body names a link (or its transactions and expectations): an unknown one is a 404.
NAMES_A_LINK = problem_responses(404)


@router.post("/batches", status_code=status.HTTP_201_CREATED, responses=NAMES_A_LINK)
async def form_batch(body: BatchCreate, principal: Writer, context: ContextDep) -> BatchOut:
    """Each payment's `prepare_batch` is posted now; the bank's settlement carrying `reference` settles
    the payments still in the batch (cancel one with `POST /expectations/{id}/cancellation`)."""
    view = await batches.form_batch(
        context,
        link_id=body.link_id,
        reference=body.reference,
        expectation_ids=body.expectation_ids,
        actor=principal.name,
    )
    await reconcile_link.after_arrival(context, body.link_id)
    return BatchOut.from_view(await batches.get_batch(context, view.batch.id))


@router.get("/batches")
async def list_batches(_: Reader, context: ContextDep, params: Annotated[BatchListParams, Query()]) -> Page[BatchOut]:
    found = await batches.list_batches(
        context, link_id=params.link_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    views = [await batches.get_batch(context, batch.id) for batch in found]
    return Page.from_overfetch([BatchOut.from_view(view) for view in views], params.limit)


@router.get("/batches/{batch_id}")
async def get_batch(batch_id: str, _: Reader, context: ContextDep) -> BatchOut:
    return BatchOut.from_view(await batches.get_batch(context, batch_id))


@router.post("/links/{link_id}/card-settlements", status_code=status.HTTP_201_CREATED)
async def import_settlement_file(
    link_id: str, body: SettlementFileCreate, principal: Writer, context: ContextDep
) -> SettlementOut:
    """Level 1 and 2: the bank's payment under `settlement_id` is reconciled and split per clearing."""
    await card_settlements.import_settlement_file(
        context,
        link_id,
        settlement_id=body.settlement_id,
        clearings=[(clearing.clearing_id, clearing.amount_minor) for clearing in body.clearings],
        settled_on=body.settled_on,
        actor=principal.name,
    )
    await reconcile_link.after_arrival(context, link_id)
    return SettlementOut.from_view(await card_settlements.get_settlement(context, link_id, body.settlement_id))


@router.get("/links/{link_id}/card-settlements/{settlement_id}")
async def get_settlement(link_id: str, settlement_id: str, _: Reader, context: ContextDep) -> SettlementOut:
    return SettlementOut.from_view(await card_settlements.get_settlement(context, link_id, settlement_id))


@router.post("/links/{link_id}/card-clearings", status_code=status.HTTP_201_CREATED)
async def import_clearing_file(link_id: str, body: ClearingFileCreate, _: Writer, context: ContextDep) -> ClearingOut:
    """Level 3: once its settlement is reconciled, each card transaction is credited to its account."""
    clearing = await card_settlements.import_clearing_file(
        context,
        link_id,
        clearing_id=body.clearing_id,
        transactions=[transaction.to_domain() for transaction in body.transactions],
    )
    return ClearingOut.from_domain(clearing)


@router.get("/links/{link_id}/card-clearings/{clearing_id}")
async def get_clearing(link_id: str, clearing_id: str, _: Reader, context: ContextDep) -> ClearingOut:
    return ClearingOut.from_domain(await card_settlements.get_clearing(context, link_id, clearing_id))
