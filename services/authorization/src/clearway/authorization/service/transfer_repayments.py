"""Repayments by bank transfer (issue 10 §4): funding's `transfer.created`, inbound, quoting a card
account's repayment reference as its `payment_reference`, repays that account exactly as
`POST /card-accounts/{id}/repayments` does (the same split, order and effects).

The repayment's reference is `transfer:<processor>:<transfer_id>`, so a redelivered event, or the
processor sending the same transfer under a new event id, finds the first repayment and moves
nothing. A transfer that is outbound or quotes no card account's reference (most are funding's) is
not a repayment: it is logged and consumed. One quoting an account's reference in another currency is
recorded as a `refused` repayment (reason `currency_mismatch`, listed with the account's repayments,
never posted to the ledger) and `card.repayment.refused` is published, so operations can return it. A ledger outage raises, so the event
is retried; the repayment committed `pending` is finished by the retry or by the recovery pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearway.authorization.domain import billing, repayment_references
from clearway.authorization.domain.errors import RuleViolationError
from clearway.authorization.service import repayments
from clearway.authorization.service.authorizations import InboxEntry
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.transfer_repayments")


@dataclass(frozen=True, slots=True)
class SettledTransfer:
    transfer_id: str
    processor: str
    direction: str
    amount_minor: int
    currency: str
    payment_reference: str | None


def repayment_reference(transfer: SettledTransfer) -> str:
    return f"transfer:{transfer.processor}:{transfer.transfer_id}"


async def repay_from_transfer(
    context: AuthorizationContext, transfer: SettledTransfer, *, inbox: InboxEntry
) -> dict[str, Any] | None:
    """-> the repayment (posted, pending or refused), or None when the transfer quotes no card account."""
    reference = repayment_references.normalize(transfer.payment_reference)
    account = None
    if transfer.direction == "inbound" and reference is not None and transfer.amount_minor > 0:
        async with context.unit_of_work() as uow:
            account = await uow.card_accounts.get_by_repayment_reference(reference)
    repayment = None
    if account is not None:
        request = repayments.RepaymentRequest(
            card_account_id=account.id,
            amount_minor=transfer.amount_minor,
            currency=transfer.currency,
            reference=repayment_reference(transfer),
        )
        refused_for = billing.transfer_refusal(account.currency, transfer.currency)
        if refused_for is not None:
            # Visible and recoverable, never posted: the money stays where it settled for operations
            # to return; the refusal and the event that brought it commit together.
            refused, _ = await repayments.record_refused(
                context,
                account,
                request,
                refused_for,
                transfer_id=transfer.transfer_id,
                processor=transfer.processor,
                inbox=inbox,
            )
            return refused
        try:
            repayment, _ = await repayments.repay(context, request)
        except RuleViolationError as refusal:  # the processor reused a transfer id for another amount
            logger.warning("transfer repayment refused", transfer_id=transfer.transfer_id, code=refusal.error_code)
    async with context.unit_of_work() as uow:
        await uow.inbox.record_once(inbox.consumer, inbox.event_id, inbox.topic)
        await uow.commit()
    return repayment
