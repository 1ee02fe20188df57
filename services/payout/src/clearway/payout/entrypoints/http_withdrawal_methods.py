"""Withdrawal method routes (seed 001): create, list the caller's own, read one, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from clearway.payout.domain.withdrawal_methods import MethodType
from clearway.payout.entrypoints.dependencies import ContextDep, Mover, Reader, acting_owner, visible_owner
from clearway.payout.entrypoints.schemas_withdrawal_methods import WithdrawalMethodCreate, WithdrawalMethodOut
from clearway.payout.service import withdrawal_methods
from clearway.platform.pagination import Page, PageParams

router = APIRouter(prefix="/api/v1/payments/withdrawal-methods", tags=["withdrawal methods"])


class MethodListParams(PageParams):
    user_id: str | None = None


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_withdrawal_method(
    body: WithdrawalMethodCreate, principal: Mover, context: ContextDep
) -> WithdrawalMethodOut:
    command = withdrawal_methods.CreateWithdrawalMethod(
        user_id=acting_owner(principal, body.identity_id),
        method_type=MethodType(body.type),
        provider=body.provider,
        phone_number=body.phone_number,
        iban=body.iban,
        account_holder_name=body.account_holder_name,
        bic=body.bic,
        label=body.label,
        is_primary=body.is_primary,
    )
    return WithdrawalMethodOut.from_domain(await withdrawal_methods.create_withdrawal_method(context, command))


@router.get("")
async def list_withdrawal_methods(
    principal: Reader, context: ContextDep, params: Annotated[MethodListParams, Query()]
) -> Page[WithdrawalMethodOut]:
    found = await withdrawal_methods.list_withdrawal_methods(
        context,
        visible_owner(principal, params.user_id),
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([WithdrawalMethodOut.from_domain(method) for method in found], params.limit)


@router.get("/{method_id}")
async def get_withdrawal_method(method_id: str, principal: Reader, context: ContextDep) -> WithdrawalMethodOut:
    method = await withdrawal_methods.get_withdrawal_method(context, method_id, owner=visible_owner(principal))
    return WithdrawalMethodOut.from_domain(method)


@router.delete("/{method_id}")
async def deactivate_withdrawal_method(method_id: str, principal: Mover, context: ContextDep) -> WithdrawalMethodOut:
    method = await withdrawal_methods.deactivate_withdrawal_method(context, method_id, owner=visible_owner(principal))
    return WithdrawalMethodOut.from_domain(method)
