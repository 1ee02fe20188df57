"""Withdrawal method use cases (reads, for now)."""

from __future__ import annotations

from collections.abc import Sequence

from clearway.payout.domain.withdrawal_methods import WithdrawalMethod
from clearway.payout.service.ports import PayoutUnitOfWork


async def get_withdrawal_method(uow: PayoutUnitOfWork, method_id: str) -> WithdrawalMethod | None:
    async with uow:
        return await uow.withdrawal_methods.get(method_id)


async def list_withdrawal_methods(
    uow: PayoutUnitOfWork, *, user_id: str | None, starting_after: str | None, limit: int
) -> Sequence[WithdrawalMethod]:
    assert limit >= 1, "a page holds at least one item"
    async with uow:
        methods = await uow.withdrawal_methods.list(user_id=user_id, starting_after=starting_after, limit=limit)
    assert len(methods) <= limit, "repository returned more than asked"
    return methods
