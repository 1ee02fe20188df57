"""External transaction routes: thin translations between HTTP and the use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clearway.platform.errors import NotFound
from clearway.platform.pagination import Page
from clearway.reconciliation.entrypoints.dependencies import Reader, UnitOfWorkDep
from clearway.reconciliation.entrypoints.schemas import ExternalTransactionListParams, ExternalTransactionOut
from clearway.reconciliation.service import external_transactions

router = APIRouter(tags=["external transactions"])


@router.get("/external-transactions")
async def list_external_transactions(
    uow: UnitOfWorkDep, _: Reader, params: Annotated[ExternalTransactionListParams, Query()]
) -> Page[ExternalTransactionOut]:
    """What banks and providers reported, in the order it arrived; `status=unmatched` for the open ones."""
    found = await external_transactions.list_external_transactions(
        uow, status=params.status, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([ExternalTransactionOut.from_domain(item) for item in found], params.limit)


@router.get("/external-transactions/{transaction_id}")
async def get_external_transaction(transaction_id: str, uow: UnitOfWorkDep, _: Reader) -> ExternalTransactionOut:
    transaction = await external_transactions.get_external_transaction(uow, transaction_id)
    if transaction is None:
        raise NotFound(f"No external transaction {transaction_id}.", code="EXTERNAL_TRANSACTION_NOT_FOUND")
    return ExternalTransactionOut.from_domain(transaction)
