"""Statements (issue 10 §4): read the ones the cycle close wrote, as data or as the printed document.

The close (`service/billing.py`) writes a statement once; nothing here changes it. The printed
document adds what a cardholder expects beside the recorded figures: the previous statement's total,
the repayments posted during the cycle, the cards' last four digits and the account's rates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from clearway.authorization.domain.errors import NotFoundError
from clearway.authorization.domain.statements import Statement, StatementDocument, statement_from_row
from clearway.authorization.service.context import AuthorizationContext
from clearway.authorization.service.ports import AuthorizationUnitOfWork

CARDS_PAGE = 100
CARD_PAGES_MAX = 100  # an account with more than 10,000 cards prints the first 10,000's endings


def _account_not_found(card_account_id: str) -> NotFoundError:
    return NotFoundError(f"No card account {card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")


async def list_statements(
    context: AuthorizationContext, card_account_id: str, *, after_number: int, limit: int
) -> Sequence[Statement]:
    async with context.unit_of_work() as uow:
        if await uow.card_accounts.get(card_account_id) is None:
            raise _account_not_found(card_account_id)
        rows = await uow.billing.statements(card_account_id, after_number=after_number, limit=limit)
    return [statement_from_row(row) for row in rows]


async def _statement(uow: AuthorizationUnitOfWork, card_account_id: str, number: int) -> Statement:
    row = await uow.billing.statement(card_account_id, number)
    if row is None:
        raise NotFoundError(f"No statement {number} of {card_account_id[:64]}.", code="STATEMENT_NOT_FOUND")
    return statement_from_row(row)


async def get_statement(context: AuthorizationContext, card_account_id: str, number: int) -> Statement:
    async with context.unit_of_work() as uow:
        return await _statement(uow, card_account_id, number)


async def statement_document(context: AuthorizationContext, card_account_id: str, number: int) -> StatementDocument:
    async with context.unit_of_work() as uow:
        statement = await _statement(uow, card_account_id, number)
        account = await uow.card_accounts.get(card_account_id)
        assert account is not None, "a statement's account is never deleted"
        previous = await _statement(uow, card_account_id, number - 1) if number > 1 else None
        payments_minor = await uow.billing.repayments_posted_minor(
            card_account_id, after=previous.closed_at if previous else None, until=statement.closed_at
        )
        last_fours: dict[str, str] = {}
        after: str | None = None
        for _ in range(CARD_PAGES_MAX):
            cards = await uow.cards.list_for_account(card_account_id, starting_after=after, limit=CARDS_PAGE)
            last_fours.update({card.id: card.last_four for card in cards})
            if len(cards) < CARDS_PAGE:
                break
            after = cards[-1].id
    return StatementDocument(
        statement=statement,
        terms=account.terms,
        card_last_fours=last_fours,
        opening_balance_minor=previous.total_due_minor if previous else 0,
        payments_minor=payments_minor,
    )


async def render_pdf(context: AuthorizationContext, card_account_id: str, number: int) -> bytes:
    document = await statement_document(context, card_account_id, number)
    # Layout is CPU work: off the event loop so decisions keep flowing.
    return await asyncio.to_thread(context.render_statement, document)
