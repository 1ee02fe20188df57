"""Repayments (issue 10 §4, seed 002 steps 11-12): `POST /card-accounts/{id}/repayments`.

The amount is split in the documented order (`domain.billing.allocate_repayment`: overdue
principal, billed principal, fees, transaction interest, then any excess onto card primary) as ONE
ledger transaction from `@World-<CUR>` with several destinations; then card primary is credited
with the repaid principal from `@CustomerRepayments-<CUR>` (available credit returns); then, when
the overdue principal is cleared, overdue interest is zeroed by charging it to card primary (billed
with the next cycle). The allocation is committed `pending` first (unique per account and
reference), so the same reference again, a retry or a crash in between replays the same three
postings (`repayment:<id>:split|principal|overdue-interest`) and never pays twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from clearway.authorization.domain import billing, postings
from clearway.authorization.domain.card_accounts import (
    BILLED_BALANCE,
    CARD_PRIMARY,
    FEES_PAYABLE,
    OVERDUE_BALANCE,
    OVERDUE_INTEREST,
    TRANSACTION_INTEREST,
    CardAccount,
)
from clearway.authorization.domain.errors import NotFoundError, RuleViolationError
from clearway.authorization.service import event_builders
from clearway.authorization.service.authorizations import InboxEntry
from clearway.authorization.service.billing import customer_repayments, read_balances
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.ids import new_id
from clearway.platform.ledger import APPLIED, Posting
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.repayments")


@dataclass(frozen=True, slots=True)
class RepaymentRequest:
    card_account_id: str
    amount_minor: int
    currency: str
    reference: str


async def repay(context: AuthorizationContext, request: RepaymentRequest) -> tuple[dict[str, Any], bool]:
    """-> (the repayment, created now). A known reference answers the first repayment (finishing it)."""
    if request.amount_minor <= 0:
        raise RuleViolationError("A repayment moves a positive amount.", code="AMOUNT_INVALID")
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(request.card_account_id)
        known = await uow.billing.repayment_by_reference(request.card_account_id, request.reference)
    if account is None:
        raise NotFoundError(f"No card account {request.card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
    if request.currency != account.currency:
        raise RuleViolationError(f"The account is in {account.currency}.", code="CURRENCY_MISMATCH")
    created = known is None
    if known is None:
        balances = await read_balances(context, account)
        owed = billing.Owed(
            overdue_minor=-balances[OVERDUE_BALANCE].balance_minor,
            billed_minor=-balances[BILLED_BALANCE].balance_minor,
            fees_minor=-balances[FEES_PAYABLE].balance_minor,
            transaction_interest_minor=-balances[TRANSACTION_INTEREST].balance_minor,
            overdue_interest_minor=-balances[OVERDUE_INTEREST].balance_minor,
        )
        allocation = billing.allocate_repayment(request.amount_minor, owed)
        async with context.unit_of_work() as uow:
            await uow.card_accounts.get(account.id, for_update=True)  # one repayment at a time per account
            known = await uow.billing.repayment_by_reference(account.id, request.reference)
            if known is None:
                await uow.billing.add_repayment(
                    {
                        "id": new_id(billing.REPAYMENT_ID_PREFIX),
                        "card_account_id": account.id,
                        "reference": request.reference,
                        "amount_minor": request.amount_minor,
                        "currency": request.currency,
                        "allocation": asdict(allocation),
                        "created_at": context.clock(),
                    }
                )
                await uow.commit()
            else:
                created = False
        async with context.unit_of_work() as uow:
            known = await uow.billing.repayment_by_reference(account.id, request.reference)
    assert known is not None
    if known["amount_minor"] != request.amount_minor or known["currency"] != request.currency:
        raise RuleViolationError(
            f"Reference {request.reference[:64]} was a repayment of another amount.", code="REPAYMENT_REFERENCE_REUSED"
        )
    if known["status"] == "pending":
        known = await _post(context, account, known)
    return known, created


async def finish_repayment(context: AuthorizationContext, repayment: dict[str, Any]) -> dict[str, Any]:
    """The recovery pass: post a `pending` repayment's recorded allocation (every posting a replay if
    it was made before the crash)."""
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(str(repayment["card_account_id"]))
        current = await uow.billing.repayment_by_reference(
            str(repayment["card_account_id"]), str(repayment["reference"])
        )
    assert account is not None and current is not None, "accounts and repayments are never deleted"
    if current["status"] != "pending":
        return current  # finished by a retry meanwhile
    return await _post(context, account, current)


async def _post(context: AuthorizationContext, account: CardAccount, repayment: dict[str, Any]) -> dict[str, Any]:
    allocation = billing.RepaymentAllocation(**repayment["allocation"])
    repayment_id = str(repayment["id"])
    legs = [
        (account.balance_id(balance_type), amount)
        for balance_type, amount in (
            (OVERDUE_BALANCE, allocation.overdue_minor),
            (BILLED_BALANCE, allocation.billed_minor),
            (FEES_PAYABLE, allocation.fees_minor),
            (TRANSACTION_INTEREST, allocation.transaction_interest_minor),
            (CARD_PRIMARY, allocation.excess_minor),
        )
        if amount > 0
    ]
    meta = {"card_account_id": account.id, "repayment_id": repayment_id, "reference": str(repayment["reference"])}
    split = await context.ledger.post_split(
        reference=billing.repayment_reference(repayment_id, "split"),
        currency=account.currency,
        source=postings.world(account.currency),
        destinations=legs,
        description="Invoice paid",
        meta_data=meta,
    )
    if split.status != APPLIED:  # from @World with overdraft allowed: only the ledger's fault
        logger.error("repayment split not posted", repayment_id=repayment_id, status=split.status)
        return repayment  # stays `pending`: the recovery pass asks again under the same reference
    if allocation.principal_minor > 0:
        await context.ledger.post(
            Posting(
                amount_minor=allocation.principal_minor,
                currency=account.currency,
                reference=billing.repayment_reference(repayment_id, "principal"),
                source=customer_repayments(account.currency),
                destination=account.balance_id(CARD_PRIMARY),
                allow_overdraft=True,
                description="Invoice settled",
                meta_data=meta,
            )
        )
    if allocation.overdue_interest_minor > 0:
        await context.ledger.post(
            Posting(
                amount_minor=allocation.overdue_interest_minor,
                currency=account.currency,
                reference=billing.repayment_reference(repayment_id, "overdue-interest"),
                source=account.balance_id(CARD_PRIMARY),
                destination=account.balance_id(OVERDUE_INTEREST),
                allow_overdraft=True,
                description="Overdue interest",
                meta_data=meta,
            )
        )
    async with context.unit_of_work() as uow:
        now = context.clock()
        if await uow.billing.repayment_posted(repayment_id, now, split.transaction_id):
            # Only the attempt that moved it out of `pending` publishes (a concurrent retry or the
            # recovery pass finds it posted and adds nothing).
            await uow.events.add(event_builders.repayment_applied(repayment, split.transaction_id, now))
        balances_paid = allocation.overdue_minor + allocation.billed_minor > 0
        if balances_paid:
            await _settle_statements(context, account, uow, now)
        await uow.commit()
        done = await uow.billing.repayment_by_reference(account.id, str(repayment["reference"]))
    assert done is not None
    logger.info("repayment posted", card_account_id=account.id, repayment_id=repayment_id)
    return done


async def _settle_statements(context: AuthorizationContext, account: CardAccount, uow: Any, now: Any) -> None:
    """Statements are paid once nothing billed or overdue is owed."""
    billed = await context.ledger.get_balance(account.balance_id(BILLED_BALANCE))
    overdue = await context.ledger.get_balance(account.balance_id(OVERDUE_BALANCE))
    if billed is not None and overdue is not None and billed.balance_minor >= 0 and overdue.balance_minor >= 0:
        await uow.billing.mark_statements_paid(account.id, now)


async def record_refused(
    context: AuthorizationContext,
    account: CardAccount,
    request: RepaymentRequest,
    reason: str,
    *,
    transfer_id: str | None,
    processor: str | None,
    inbox: InboxEntry,
) -> tuple[dict[str, Any], bool]:
    """Money quoting the account that cannot repay it: recorded `refused` (never posted to the ledger)
    with `card.repayment.refused`, and the event that brought it, in one commit. -> (the repayment,
    created now); the same reference again answers the first one and publishes nothing."""
    async with context.unit_of_work() as uow:
        await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.card_accounts.get(account.id, for_update=True)  # one repayment at a time per account
        known = await uow.billing.repayment_by_reference(account.id, request.reference)
        created = known is None
        if known is None:
            await uow.billing.add_refused_repayment(
                {
                    "id": new_id(billing.REPAYMENT_ID_PREFIX),
                    "card_account_id": account.id,
                    "reference": request.reference,
                    "amount_minor": request.amount_minor,
                    "currency": request.currency,
                    "reason": reason,
                    "allocation": asdict(billing.NOTHING_ALLOCATED),
                    "created_at": context.clock(),
                }
            )
            known = await uow.billing.repayment_by_reference(account.id, request.reference)
            assert known is not None
            await uow.events.add(
                event_builders.repayment_refused(known, account.currency, transfer_id=transfer_id, processor=processor)
            )
        await uow.commit()
    if created:
        logger.warning("repayment refused", card_account_id=account.id, repayment_id=known["id"], reason=reason)
    return known, created


async def list_repayments(
    context: AuthorizationContext, card_account_id: str, *, starting_after: str | None, limit: int
) -> list[dict[str, Any]]:
    """The account's repayments, posted, pending and refused, in id order (404 for an unknown account)."""
    async with context.unit_of_work() as uow:
        account = await uow.card_accounts.get(card_account_id)
        if account is None:
            raise NotFoundError(f"No card account {card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
        return await uow.billing.list_repayments(card_account_id, starting_after=starting_after, limit=limit)
