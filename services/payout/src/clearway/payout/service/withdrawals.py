"""Withdrawal use cases: seed 001's decision path, branch by branch, and the owner's reads.

    replay? -> method owned? (404) -> min/max/day limits (422|430) -> spendable? (422|430)
            -> payment intent + withdrawal pending_approval (201)

The reservation is a ledger hold placed before the withdrawal is accepted. The row is committed
first (`reserving`, under the user's wallet lock so the daily limit holds under concurrency), then
the hold is asked for with a reference derived from the withdrawal id, then its outcome is
committed. The ledger never lets a wallet overdraw, so of 50 concurrent requests against a
balance that covers 10 exactly 10 get a hold. A crash between the hold and our commit leaves a
`reserving` row that a retry with the same Idempotency-Key, or the recovery pass, finishes by
asking for the same hold again (a replay: the hold is adopted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from clearway.payout.domain import postings
from clearway.payout.domain.errors import (
    BusinessRuleError,
    IdempotencyKeyReusedError,
    NotFoundError,
)
from clearway.payout.domain.limits import check_amount
from clearway.payout.domain.withdrawal_methods import WithdrawalMethod
from clearway.payout.domain.withdrawals import (
    PAYMENT_INTENT_ID_PREFIX,
    WITHDRAWAL_ID_PREFIX,
    Origin,
    PaymentIntent,
    RequestWithdrawal,
    Withdrawal,
    WithdrawalStatus,
    new_withdrawal,
)
from clearway.payout.service import event_builders
from clearway.payout.service.context import PayoutContext
from clearway.payout.service.ports import PayoutUnitOfWork
from clearway.platform.ids import new_id
from clearway.platform.ledger import INFLIGHT, LedgerTransaction
from clearway.platform.logging import get_logger

logger = get_logger("clearway.payout.withdrawals")

DAILY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class WithdrawalResult:
    withdrawal: Withdrawal
    intent: PaymentIntent
    created: bool  # False: an earlier request with the same Idempotency-Key made it


def insufficient_funds(currency: str) -> BusinessRuleError:
    return BusinessRuleError(
        f"The wallet's spendable {currency} balance does not cover this withdrawal.", code="INSUFFICIENT_FUNDS"
    )


async def request_withdrawal(context: PayoutContext, command: RequestWithdrawal) -> WithdrawalResult:
    async with context.unit_of_work() as uow:
        existing = await uow.withdrawals.get_by_idempotency_key(command.user_id, command.idempotency_key)
        if existing is not None and not command.same_request_as(existing):
            raise IdempotencyKeyReusedError("This Idempotency-Key was already used for a different withdrawal.")
    if existing is not None and existing.status is not WithdrawalStatus.RESERVING:
        return await _result(context, existing, created=False)
    recorded_here = False
    if existing is None:
        existing, recorded_here = await _record_request(context, command)
    result = await reserve(context, existing)
    # The request that recorded the withdrawal created it (201), even when the recovery pass or a
    # retry adopted its hold first (found under load: the creator answered 200).
    return replace(result, created=True) if recorded_here else result


async def _record_request(context: PayoutContext, command: RequestWithdrawal) -> tuple[Withdrawal, bool]:
    """The withdrawal recorded `reserving`, and whether this request recorded it (False: a request
    with the same key did, while this one waited for the wallet's lock)."""
    async with context.unit_of_work() as uow:
        method = await uow.methods.get(command.withdrawal_method_id)
        if method is None or not method.active or method.user_id != command.user_id:
            raise NotFoundError(
                f"No withdrawal method {command.withdrawal_method_id}.", code="WITHDRAWAL_METHOD_NOT_FOUND"
            )
        _require_method_currency(method, command.currency)
        await uow.withdrawals.lock_wallet(command.user_id, command.currency)
        # Raced with the same key while waiting for the lock: the first one stands.
        raced = await uow.withdrawals.get_by_idempotency_key(command.user_id, command.idempotency_key)
        if raced is not None:
            return raced, False
        now = context.clock()
        limits = (await uow.settings.limits()).get(command.currency)
        spent = await uow.withdrawals.open_total_since(command.user_id, command.currency, now - DAILY_WINDOW)
        check_amount(limits, command.currency, command.amount_minor, spent)
        withdrawal, intent = new_withdrawal(
            withdrawal_id=new_id(WITHDRAWAL_ID_PREFIX),
            intent_id=new_id(PAYMENT_INTENT_ID_PREFIX),
            user_id=command.user_id,
            method_id=method.id,
            method_type=method.method_type.value,
            provider=rail_for(context, method),
            amount_minor=command.amount_minor,
            currency=command.currency,
            idempotency_key=command.idempotency_key,
            origin=Origin.USER,
            now=now,
        )
        await uow.withdrawals.add(withdrawal, intent)
        await uow.commit()
    return withdrawal, True


def _require_method_currency(method: WithdrawalMethod, currency: str) -> None:
    if method.currency != currency:
        raise BusinessRuleError(
            f"This withdrawal method pays out {method.currency}, not {currency[:8]}.", code="CURRENCY_MISMATCH"
        )


def rail_for(context: PayoutContext, method: WithdrawalMethod) -> str:
    """The rail that will pay: the configured mobile-money provider, or the bank method's scheme."""
    return context.mobile_money.name if method.method_type.value == "mobile_money" else method.provider


async def reserve(context: PayoutContext, withdrawal: Withdrawal) -> WithdrawalResult:
    """Place (or adopt) the withdrawal's hold and commit its outcome. Safe to repeat."""
    assert withdrawal.status is WithdrawalStatus.RESERVING
    wallet = await context.ledger.find_wallet(withdrawal.user_id, withdrawal.currency)
    if wallet is None:
        await _forget(context, withdrawal, "no wallet")
        raise insufficient_funds(withdrawal.currency)
    hold = await context.ledger.post(postings.hold_posting(withdrawal, wallet.balance_id))
    if hold.status != INFLIGHT:
        await _forget(context, withdrawal, hold.rejection_reason or hold.status)
        raise insufficient_funds(withdrawal.currency)
    return await _adopt(context, withdrawal, hold)


async def _adopt(context: PayoutContext, withdrawal: Withdrawal, hold: LedgerTransaction) -> WithdrawalResult:
    async with context.unit_of_work() as uow:
        current = await uow.withdrawals.get(withdrawal.id, for_update=True)
        assert current is not None, "a reserving withdrawal is only deleted by its own refusal"
        if current.status is not WithdrawalStatus.RESERVING:  # a concurrent retry adopted it first
            return await _result_in(uow, current, created=False)
        now = context.clock()
        reserved = current.reserved(hold.transaction_id, now)
        await uow.withdrawals.update(reserved)
        method = await uow.methods.get(reserved.withdrawal_method_id) if reserved.withdrawal_method_id else None
        await uow.events.add(event_builders.requested(reserved, _masked(method), now))
        result = await _result_in(uow, reserved, created=True)
        await uow.commit()
    logger.info(
        "withdrawal reserved",
        withdrawal_id=reserved.id,
        user_id=reserved.user_id,
        amount_minor=reserved.amount_minor,
        currency=reserved.currency,
        hold_transaction_id=hold.transaction_id,
        replayed=hold.replayed,
    )
    return result


async def _forget(context: PayoutContext, withdrawal: Withdrawal, reason: str) -> None:
    """The ledger refused the hold: nothing is reserved, so the request leaves no withdrawal behind."""
    async with context.unit_of_work() as uow:
        await uow.withdrawals.delete_unreserved(withdrawal.id)
        await uow.commit()
    logger.info("withdrawal refused: hold not placed", withdrawal_id=withdrawal.id, reason=reason[:200])


def _masked(method: WithdrawalMethod | None) -> str | None:
    return method.account_number_masked if method is not None else None


async def _result(context: PayoutContext, withdrawal: Withdrawal, *, created: bool) -> WithdrawalResult:
    async with context.unit_of_work() as uow:
        return await _result_in(uow, withdrawal, created=created)


async def _result_in(uow: PayoutUnitOfWork, withdrawal: Withdrawal, *, created: bool) -> WithdrawalResult:
    intent = await uow.withdrawals.intent(withdrawal.payment_intent_id)
    return WithdrawalResult(withdrawal=withdrawal, intent=intent, created=created)


async def get_withdrawal(context: PayoutContext, withdrawal_id: str, *, owner: str | None) -> WithdrawalResult:
    async with context.unit_of_work() as uow:
        withdrawal = await uow.withdrawals.get(withdrawal_id)
        if (
            withdrawal is None
            or withdrawal.status is WithdrawalStatus.RESERVING
            or (owner is not None and withdrawal.user_id != owner)
        ):
            raise NotFoundError(f"No withdrawal {withdrawal_id}.", code="WITHDRAWAL_NOT_FOUND")
        return await _result_in(uow, withdrawal, created=False)


async def list_withdrawals(
    context: PayoutContext,
    user_id: str | None,
    *,
    status: WithdrawalStatus | None,
    starting_after: str | None,
    limit: int,
) -> Sequence[Withdrawal]:
    async with context.unit_of_work() as uow:
        return await uow.withdrawals.list_for_user(user_id, status=status, starting_after=starting_after, limit=limit)


@dataclass(frozen=True, slots=True)
class WalletLine:
    currency: str
    balance_minor: int
    reserved_minor: int

    @property
    def spendable_minor(self) -> int:
        return self.balance_minor - self.reserved_minor


async def wallet(context: PayoutContext, user_id: str) -> list[WalletLine]:
    """The user's wallet per currency payout offers: the ledger balance, what withdrawals hold of it
    (the ledger's inflight debits), and what is left to spend."""
    async with context.unit_of_work() as uow:
        currencies = sorted(await uow.settings.limits())
    lines = []
    for currency in currencies:
        balance = await context.ledger.find_wallet(user_id, currency)
        if balance is not None:
            lines.append(WalletLine(currency, balance.balance_minor, balance.inflight_debit_minor))
    return lines
