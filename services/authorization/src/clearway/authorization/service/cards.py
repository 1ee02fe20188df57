"""Card use cases: issue a card on an account, change its status or controls, read it."""

from __future__ import annotations

from collections.abc import Sequence

from clearway.authorization.domain.card_accounts import CardAccountStatus
from clearway.authorization.domain.cards import (
    CARD_ID_PREFIX,
    Card,
    CardStatus,
    IssueCard,
    UpdateCard,
    check_controls,
    check_last_four,
    parse_expires,
)
from clearway.authorization.domain.errors import ConflictError, NotFoundError
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.ids import new_id


def card_not_found(card_id: str) -> NotFoundError:
    return NotFoundError(f"No card {card_id[:64]}.", code="CARD_NOT_FOUND")


async def issue_card(context: AuthorizationContext, command: IssueCard) -> Card:
    check_last_four(command.last_four)
    check_controls(command.controls)
    async with context.unit_of_work() as uow:
        now = context.clock()
        month, year = parse_expires(command.expires, now)
        account = await uow.card_accounts.get(command.card_account_id)
        if account is None:
            raise NotFoundError(f"No card account {command.card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
        if account.status is CardAccountStatus.CLOSED:
            raise ConflictError(f"Card account {account.id} is closed.", code="CARD_ACCOUNT_CLOSED")
        card = Card(
            id=new_id(CARD_ID_PREFIX),
            card_account_id=account.id,
            last_four=command.last_four,
            expires_month=month,
            expires_year=year,
            status=CardStatus.ACTIVE,
            controls=command.controls,
            created_at=now,
            updated_at=now,
        )
        await uow.cards.add(card)
        await uow.commit()
    return card


async def update_card(context: AuthorizationContext, card_id: str, change: UpdateCard) -> Card:
    async with context.unit_of_work() as uow:
        card = await uow.cards.get(card_id, for_update=True)
        if card is None:
            raise card_not_found(card_id)
        updated = card.updated(change, context.clock())
        await uow.cards.update(updated)
        await uow.commit()
    return updated


async def get_card(context: AuthorizationContext, card_id: str) -> Card:
    async with context.unit_of_work() as uow:
        card = await uow.cards.get(card_id)
    if card is None:
        raise card_not_found(card_id)
    return card


async def list_cards(
    context: AuthorizationContext, card_account_id: str, *, starting_after: str | None, limit: int
) -> Sequence[Card]:
    async with context.unit_of_work() as uow:
        if await uow.card_accounts.get(card_account_id) is None:
            raise NotFoundError(f"No card account {card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
        return await uow.cards.list_for_account(card_account_id, starting_after=starting_after, limit=limit)
