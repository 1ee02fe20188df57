"""Card account use cases: open one (seed 002 step 1a), read it with live figures, list them.

Opening is crash-safe: the row is committed `opening` first, then the account's ledger (created once
per ik) and its six balances (get-or-create by indicator) are asked for, then the row becomes
`active` with their ids. A request that dies in between leaves an `opening` row the recovery pass
finishes by asking again; every ask is a replay of the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    CARD_ACCOUNT_ID_PREFIX,
    CardAccount,
    CardAccountFigures,
    CardAccountStatus,
    OpenCardAccount,
    balance_indicator,
    check_terms,
    figures_from_balances,
    ledger_ik,
)
from clearway.authorization.domain.errors import NotFoundError, RuleViolationError
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.ids import new_id
from clearway.platform.ledger import LedgerAnswerInvalidError
from clearway.platform.logging import get_logger
from clearway.platform.money import is_known_currency

logger = get_logger("clearway.authorization.card_accounts")


@dataclass(frozen=True, slots=True)
class CardAccountView:
    account: CardAccount
    figures: CardAccountFigures | None  # None while opening


async def open_card_account(context: AuthorizationContext, command: OpenCardAccount) -> CardAccountView:
    check_terms(command.currency, command.terms, known_currency=is_known_currency(command.currency))
    if not await context.ledger.identity_exists(command.identity_id):
        raise RuleViolationError(f"No ledger identity {command.identity_id[:64]}.", code="IDENTITY_NOT_FOUND")
    async with context.unit_of_work() as uow:
        now = context.clock()
        account = CardAccount(
            id=new_id(CARD_ACCOUNT_ID_PREFIX),
            identity_id=command.identity_id,
            currency=command.currency,
            terms=command.terms,
            status=CardAccountStatus.OPENING,
            ledger_id=None,
            created_at=now,
            updated_at=now,
        )
        await uow.card_accounts.add(account)
        await uow.commit()
    opened = await finish_opening(context, account)
    return await _view(context, opened)


async def finish_opening(context: AuthorizationContext, account: CardAccount) -> CardAccount:
    """Open (or find again) the account's ledger and balances and mark it active. Safe to repeat."""
    if account.status is not CardAccountStatus.OPENING:
        return account
    ledger = await context.ledger.create_ledger(
        f"Card account {account.id}",
        ik=ledger_ik(account.id),
        meta_data={"card_account_id": account.id, "identity_id": account.identity_id},
    )
    balance_ids: dict[str, str] = {}
    for balance_type in BALANCE_TYPES:
        balance = await context.ledger.open_account_balance(
            ledger_id=ledger.ledger_id,
            identity_id=account.identity_id,
            currency=account.currency,
            indicator=balance_indicator(account.id, balance_type),
            meta_data={"type": balance_type, "card_account_id": account.id},
        )
        balance_ids[balance_type] = balance.balance_id
    async with context.unit_of_work() as uow:
        current = await uow.card_accounts.get(account.id, for_update=True)
        assert current is not None, "card accounts are never deleted"
        if current.status is not CardAccountStatus.OPENING:  # a concurrent recovery finished it first
            return current
        opened = current.opened(ledger.ledger_id, balance_ids, context.clock())
        await uow.card_accounts.update(opened)
        await uow.commit()
    logger.info("card account opened", card_account_id=account.id, ledger_id=ledger.ledger_id)
    return opened


async def get_card_account(context: AuthorizationContext, card_account_id: str) -> CardAccountView:
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(card_account_id)
    if account is None:
        raise NotFoundError(f"No card account {card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
    return await _view(context, account)


async def _view(context: AuthorizationContext, account: CardAccount) -> CardAccountView:
    if account.status is CardAccountStatus.OPENING:
        return CardAccountView(account, None)
    return CardAccountView(account, await live_figures(context, account))


async def live_figures(context: AuthorizationContext, account: CardAccount) -> CardAccountFigures:
    """The account's figures as its ledger balances stand now (six reads, concurrently)."""
    answers = await asyncio.gather(
        *(context.ledger.get_balance(account.balance_id(balance_type)) for balance_type in BALANCE_TYPES)
    )
    balances: dict[str, tuple[int, int]] = {}
    for balance_type, answer in zip(BALANCE_TYPES, answers, strict=True):
        if answer is None:
            raise LedgerAnswerInvalidError(f"{account.id}'s {balance_type} balance is missing from the ledger")
        balances[balance_type] = (answer.balance_minor, answer.inflight_debit_minor)
    return figures_from_balances(account.credit_limit_minor, balances)


async def list_card_accounts(
    context: AuthorizationContext, *, identity_id: str | None, starting_after: str | None, limit: int
) -> Sequence[CardAccount]:
    assert limit >= 1, "a page holds at least one item"
    async with context.unit_of_work() as uow:
        accounts = await uow.card_accounts.list(identity_id=identity_id, starting_after=starting_after, limit=limit)
    assert len(accounts) <= limit, "repository returned more than asked"
    return accounts
