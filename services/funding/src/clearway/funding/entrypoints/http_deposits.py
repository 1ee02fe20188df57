"""Deposit routes: thin translations between HTTP and the deposit use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clearway.funding.entrypoints.dependencies import Reader, UnitOfWorkDep
from clearway.funding.entrypoints.schemas_deposits import DepositListParams, DepositOut
from clearway.funding.service import deposits
from clearway.platform.errors import NotFound
from clearway.platform.pagination import Page

router = APIRouter(tags=["deposits"])


@router.get("/deposits")
async def list_deposits(
    uow: UnitOfWorkDep, principal: Reader, params: Annotated[DepositListParams, Query()]
) -> Page[DepositOut]:
    """Deposits in creation order; `linked=false` gives the ones still waiting for a funding. A
    workspace key sees those on its receiving accounts (`PATCH /workspace`); a platform key all."""
    found = await deposits.list_deposits(
        uow,
        linked=params.linked,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
        owner_workspace=principal.workspace_id,
    )
    return Page.from_overfetch([DepositOut.from_domain(deposit) for deposit in found], params.limit)


@router.get("/deposits/{deposit_id}")
async def get_deposit(deposit_id: str, uow: UnitOfWorkDep, principal: Reader) -> DepositOut:
    deposit = await deposits.get_deposit(uow, deposit_id, owner_workspace=principal.workspace_id)
    if deposit is None:
        raise NotFound(f"No deposit {deposit_id}.", code="DEPOSIT_NOT_FOUND")
    return DepositOut.from_domain(deposit)
