"""Contract events from withdrawals: one place decides what each event says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clearway.contracts.events import (
    PayoutFailed,
    PayoutReversed,
    PayoutSubmitted,
    PayoutSucceeded,
    WithdrawalApproved,
    WithdrawalRejected,
    WithdrawalRequested,
)
from clearway.payout.domain.withdrawals import Withdrawal


def _common(withdrawal: Withdrawal, masked: str | None, now: datetime) -> dict[str, Any]:
    return {
        "withdrawal_id": withdrawal.id,
        "payment_intent_id": withdrawal.payment_intent_id,
        "user_id": withdrawal.user_id,
        "amount_minor": withdrawal.amount_minor,
        "currency": withdrawal.currency,
        "status": withdrawal.status.value,
        "method_type": withdrawal.method_type,
        "provider": withdrawal.provider,
        "account_number_masked": masked,
        "origin": withdrawal.origin.value,
        "payable_id": withdrawal.payable_id,
        "occurred_at": now,
    }


def requested(withdrawal: Withdrawal, masked: str | None, now: datetime) -> WithdrawalRequested:
    return WithdrawalRequested(**_common(withdrawal, masked, now))


def approved(withdrawal: Withdrawal, masked: str | None, now: datetime) -> WithdrawalApproved:
    assert withdrawal.approved_by is not None, "an approved withdrawal names its approver"
    return WithdrawalApproved(**_common(withdrawal, masked, now), approved_by=withdrawal.approved_by)


def rejected(withdrawal: Withdrawal, masked: str | None, rejected_by: str, now: datetime) -> WithdrawalRejected:
    return WithdrawalRejected(
        **_common(withdrawal, masked, now), rejected_by=rejected_by, reason=withdrawal.failure_reason
    )


def submitted(withdrawal: Withdrawal, masked: str | None, now: datetime) -> PayoutSubmitted:
    assert withdrawal.provider_reference is not None
    return PayoutSubmitted(
        **_common(withdrawal, masked, now),
        provider_reference=withdrawal.provider_reference,
        batch_id=withdrawal.batch_id,
    )


def succeeded(withdrawal: Withdrawal, masked: str | None, now: datetime) -> PayoutSucceeded:
    return PayoutSucceeded(**_common(withdrawal, masked, now), receipt=withdrawal.receipt)


def failed(withdrawal: Withdrawal, masked: str | None, now: datetime) -> PayoutFailed:
    return PayoutFailed(
        **_common(withdrawal, masked, now),
        failure_code=withdrawal.failure_code or "FAILED",
        reason=withdrawal.failure_reason,
    )


def reversed_(withdrawal: Withdrawal, masked: str | None, now: datetime) -> PayoutReversed:
    return PayoutReversed(**_common(withdrawal, masked, now), reason=withdrawal.failure_reason)
