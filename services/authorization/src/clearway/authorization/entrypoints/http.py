"""Card account routes: thin translations between HTTP and the use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clearway.authorization.entrypoints.dependencies import Reader, UnitOfWorkDep
from clearway.authorization.entrypoints.schemas import CardAccountListParams, CardAccountOut
from clearway.authorization.service import card_accounts
from clearway.platform.errors import NotFound
from clearway.platform.pagination import Page

router = APIRouter(tags=["card accounts"])


@router.get("/card-accounts")
async def list_card_accounts(
    uow: UnitOfWorkDep, _: Reader, params: Annotated[CardAccountListParams, Query()]
) -> Page[CardAccountOut]:
    found = await card_accounts.list_card_accounts(
        uow, customer_id=params.customer_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([CardAccountOut.from_domain(account) for account in found], params.limit)


@router.get("/card-accounts/{card_account_id}")
async def get_card_account(card_account_id: str, uow: UnitOfWorkDep, _: Reader) -> CardAccountOut:
    account = await card_accounts.get_card_account(uow, card_account_id)
    if account is None:
        raise NotFound(f"No card account {card_account_id}.", code="CARD_ACCOUNT_NOT_FOUND")
    return CardAccountOut.from_domain(account)
