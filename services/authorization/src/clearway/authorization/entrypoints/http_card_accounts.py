"""Card account and card routes: thin translations between HTTP and the use cases.

`POST` routes honour an `Idempotency-Key` (the platform's middleware replays the first answer).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from clearway.authorization.domain.cards import IssueCard
from clearway.authorization.entrypoints.dependencies import AccountManager, ContextDep, Reader
from clearway.authorization.entrypoints.schemas_card_accounts import (
    CardAccountCreate,
    CardAccountListParams,
    CardAccountOut,
    CardCreate,
    CardOut,
    CardUpdate,
)
from clearway.authorization.service import card_accounts, cards
from clearway.authorization.service.card_accounts import CardAccountView
from clearway.platform.pagination import Page, PageParams

router = APIRouter(tags=["card accounts"])


@router.post("/card-accounts", status_code=status.HTTP_201_CREATED)
async def open_card_account(body: CardAccountCreate, _: AccountManager, context: ContextDep) -> CardAccountOut:
    return CardAccountOut.from_view(await card_accounts.open_card_account(context, body.command()))


@router.get("/card-accounts")
async def list_card_accounts(
    _: Reader,
    context: ContextDep,
    params: Annotated[CardAccountListParams, Query()],
) -> Page[CardAccountOut]:
    found = await card_accounts.list_card_accounts(
        context,
        identity_id=params.identity_id or params.customer_id,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    views = [CardAccountOut.from_view(CardAccountView(account, None)) for account in found]
    return Page.from_overfetch(views, params.limit)


@router.get("/card-accounts/{card_account_id}")
async def get_card_account(card_account_id: str, _: Reader, context: ContextDep) -> CardAccountOut:
    return CardAccountOut.from_view(await card_accounts.get_card_account(context, card_account_id))


@router.post("/card-accounts/{card_account_id}/cards", status_code=status.HTTP_201_CREATED)
async def issue_card(card_account_id: str, body: CardCreate, _: AccountManager, context: ContextDep) -> CardOut:
    command = IssueCard(
        card_account_id=card_account_id,
        last_four=body.last_four,
        expires=body.expires,
        controls=body.controls.controls(),
    )
    return CardOut.from_domain(await cards.issue_card(context, command))


@router.get("/card-accounts/{card_account_id}/cards")
async def list_cards(
    card_account_id: str, _: Reader, context: ContextDep, params: Annotated[PageParams, Query()]
) -> Page[CardOut]:
    found = await cards.list_cards(
        context, card_account_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([CardOut.from_domain(card) for card in found], params.limit)


@router.get("/cards/{card_id}")
async def get_card(card_id: str, _: Reader, context: ContextDep) -> CardOut:
    return CardOut.from_domain(await cards.get_card(context, card_id))


@router.patch("/cards/{card_id}")
async def update_card(card_id: str, body: CardUpdate, _: AccountManager, context: ContextDep) -> CardOut:
    return CardOut.from_domain(await cards.update_card(context, card_id, body.change()))
