"""Card account use cases (reads, for now)."""

from __future__ import annotations

from collections.abc import Sequence

from clearway.authorization.domain.card_accounts import CardAccount
from clearway.authorization.service.ports import AuthorizationUnitOfWork


async def get_card_account(uow: AuthorizationUnitOfWork, card_account_id: str) -> CardAccount | None:
    async with uow:
        return await uow.card_accounts.get(card_account_id)


async def list_card_accounts(
    uow: AuthorizationUnitOfWork, *, customer_id: str | None, starting_after: str | None, limit: int
) -> Sequence[CardAccount]:
    assert limit >= 1, "a page holds at least one item"
    async with uow:
        accounts = await uow.card_accounts.list(customer_id=customer_id, starting_after=starting_after, limit=limit)
    assert len(accounts) <= limit, "repository returned more than asked"
    return accounts
