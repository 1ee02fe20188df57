"""Withdrawal method routes: thin translations between HTTP and the use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clearway.payout.entrypoints.dependencies import Reader, UnitOfWorkDep
from clearway.payout.entrypoints.schemas import WithdrawalMethodListParams, WithdrawalMethodOut
from clearway.payout.service import withdrawal_methods
from clearway.platform.errors import NotFound
from clearway.platform.pagination import Page

router = APIRouter(tags=["withdrawal methods"])


@router.get("/withdrawal-methods")
async def list_withdrawal_methods(
    uow: UnitOfWorkDep, _: Reader, params: Annotated[WithdrawalMethodListParams, Query()]
) -> Page[WithdrawalMethodOut]:
    found = await withdrawal_methods.list_withdrawal_methods(
        uow, user_id=params.user_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([WithdrawalMethodOut.from_domain(method) for method in found], params.limit)


@router.get("/withdrawal-methods/{method_id}")
async def get_withdrawal_method(method_id: str, uow: UnitOfWorkDep, _: Reader) -> WithdrawalMethodOut:
    method = await withdrawal_methods.get_withdrawal_method(uow, method_id)
    if method is None:
        raise NotFound(f"No withdrawal method {method_id}.", code="WITHDRAWAL_METHOD_NOT_FOUND")
    return WithdrawalMethodOut.from_domain(method)
