"""External transaction routes: everything synced, and what is still unreconciled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clearway.platform.pagination import Page
from clearway.reconciliation.domain.external_transactions import ReconStatus
from clearway.reconciliation.entrypoints.dependencies import ContextDep, Reader
from clearway.reconciliation.entrypoints.schemas_links import (
    ExternalTransactionListParams,
    ExternalTransactionOut,
    UnreconciledParams,
)
from clearway.reconciliation.service import transactions

router = APIRouter(tags=["external transactions"])


@router.get("/external-transactions")
async def list_external_transactions(
    _: Reader, context: ContextDep, params: Annotated[ExternalTransactionListParams, Query()]
) -> Page[ExternalTransactionOut]:
    found = await transactions.list_transactions(
        context,
        link_id=params.link_id,
        status=params.status,
        unlinked=params.unlinked,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([ExternalTransactionOut.from_domain(item) for item in found], params.limit)


@router.get("/external-transactions/{transaction_id}")
async def get_external_transaction(transaction_id: str, _: Reader, context: ContextDep) -> ExternalTransactionOut:
    return ExternalTransactionOut.from_domain(await transactions.get_transaction(context, transaction_id))


@router.get("/unreconciled")
async def list_unreconciled(
    _: Reader, context: ContextDep, params: Annotated[UnreconciledParams, Query()]
) -> Page[ExternalTransactionOut]:
    """Seed 003's unreconciledTxs: synced, not yet reconciled to a ledger entry."""
    found = await transactions.list_transactions(
        context,
        link_id=params.link_id,
        status=ReconStatus.UNRECONCILED,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([ExternalTransactionOut.from_domain(item) for item in found], params.limit)
