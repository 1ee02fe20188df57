"""Authorization's events, built from its domain objects (the only place it names a published model)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from clearway.authorization.domain.authorizations import Authorization
from clearway.authorization.domain.clearings import Clearing, ClearingStatus
from clearway.contracts.events import (
    CardAuthorizationDecided,
    CardAuthorizationExpired,
    CardClearingPosted,
    CardRepaymentApplied,
    CardRepaymentRefused,
    RepaymentSplit,
)


def decided(authorization: Authorization) -> CardAuthorizationDecided:
    assert authorization.decision is not None and authorization.decided_at is not None, authorization.id
    return CardAuthorizationDecided(
        id=authorization.id,
        authorization_id=authorization.authorization_id,
        card_id=authorization.card_id,
        card_account_id=authorization.card_account_id,
        decision=authorization.decision.value,
        reason=authorization.reason.value if authorization.reason is not None else None,
        amount_minor=authorization.amount_minor,
        currency=authorization.currency,
        available_credit_minor=authorization.available_credit_minor,
        hold_transaction_id=authorization.hold_transaction_id,
        fee_minor=authorization.fee_minor,
        decided_at=authorization.decided_at,
    )


def clearing_posted(clearing: Clearing) -> CardClearingPosted:
    assert clearing.status is not ClearingStatus.PENDING and clearing.posted_at is not None, clearing.id
    return CardClearingPosted(
        id=clearing.id,
        clearing_id=clearing.clearing_id,
        authorization_id=clearing.authorization_id,
        card_id=clearing.card_id,
        card_account_id=clearing.card_account_id,
        amount_minor=clearing.amount_minor,
        currency=clearing.currency,
        forced=clearing.forced,
        status="posted" if clearing.status is ClearingStatus.POSTED else "rejected",
        committed_minor=clearing.committed_minor,
        difference_minor=clearing.difference_minor,
        fee_minor=clearing.fee_minor,
        cleared_at=clearing.cleared_at,
        posted_at=clearing.posted_at,
    )


def authorization_expired(
    authorization: Authorization, released_minor: int, business_date: date, now: datetime
) -> CardAuthorizationExpired:
    assert authorization.card_account_id is not None, authorization.id
    return CardAuthorizationExpired(
        id=authorization.id,
        authorization_id=authorization.authorization_id,
        card_id=authorization.card_id,
        card_account_id=authorization.card_account_id,
        amount_minor=authorization.amount_minor,
        released_minor=released_minor,
        currency=authorization.currency,
        business_date=business_date,
        expired_at=now,
    )


def repayment_applied(repayment: dict[str, Any], ledger_transaction_id: str, now: datetime) -> CardRepaymentApplied:
    """A repayment row (`adapters.billing_repository`) as it is recorded posted."""
    return CardRepaymentApplied(
        id=str(repayment["id"]),
        card_account_id=str(repayment["card_account_id"]),
        reference=str(repayment["reference"]),
        amount_minor=int(repayment["amount_minor"]),
        currency=str(repayment["currency"]),
        split=RepaymentSplit.model_validate(repayment["allocation"]),
        ledger_transaction_id=ledger_transaction_id,
        occurred_at=now,
    )


def repayment_refused(
    repayment: dict[str, Any], account_currency: str, *, transfer_id: str | None, processor: str | None
) -> CardRepaymentRefused:
    """A repayment row recorded `refused` (nothing posted)."""
    assert repayment["status"] == "refused" and repayment["reason"], repayment
    return CardRepaymentRefused(
        id=str(repayment["id"]),
        card_account_id=str(repayment["card_account_id"]),
        reference=str(repayment["reference"]),
        amount_minor=int(repayment["amount_minor"]),
        currency=str(repayment["currency"]),
        account_currency=account_currency,
        reason=repayment["reason"],
        transfer_id=transfer_id,
        processor=processor,
        occurred_at=repayment["created_at"],
    )
