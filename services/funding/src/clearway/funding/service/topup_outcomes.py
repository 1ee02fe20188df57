"""Provider answers as domain outcomes, and settled top-ups as their `topup.*` events."""

from __future__ import annotations

from datetime import datetime

from clearway.contracts.events import TopupFailed, TopupSucceeded
from clearway.funding.domain.topups import ProviderOutcome, Topup, TopupStatus
from clearway.providers.mobile_money import StkCallback, StkFailed, StkSucceeded, mask_phone


def outcome_of_callback(callback: StkCallback) -> ProviderOutcome:
    code = callback.result_code
    if code.is_success:
        return ProviderOutcome(
            succeeded=True,
            result_code=int(code),
            result_desc=callback.result_desc or code.description,
            receipt=callback.mpesa_receipt,
            amount_minor=callback.amount_minor,
            currency=callback.currency,
        )
    return ProviderOutcome(
        succeeded=False,
        result_code=int(code),
        result_desc=callback.result_desc or code.description,
        failure_reason=code.kind.value,
    )


def outcome_of_status(status: StkSucceeded | StkFailed) -> ProviderOutcome:
    if isinstance(status, StkSucceeded):
        return ProviderOutcome(
            succeeded=True,
            result_code=0,
            result_desc="The service request is processed successfully.",
            receipt=status.receipt,
            amount_minor=status.amount_minor,
            currency=status.currency,
        )
    return ProviderOutcome(
        succeeded=False,
        result_code=int(status.result_code),
        result_desc=status.description or status.result_code.description,
        failure_reason=status.result_code.kind.value,
    )


def _event_fields(topup: Topup, now: datetime) -> dict[str, object]:
    assert topup.resolved_by is not None
    return {
        "topup_id": topup.id,
        "workspace_id": topup.workspace_id,
        "identity_id": topup.identity_id,
        "amount_minor": topup.amount_minor,
        "currency": topup.currency,
        "provider": topup.provider,
        "phone_masked": mask_phone(topup.phone),
        "checkout_request_id": topup.checkout_request_id,
        "resolved_by": topup.resolved_by.value,
        "occurred_at": now,
    }


def succeeded_event(topup: Topup, now: datetime) -> TopupSucceeded:
    assert topup.status is TopupStatus.SUCCEEDED and topup.ledger_reference is not None
    return TopupSucceeded.model_validate(
        {
            **_event_fields(topup, now),
            "receipt": topup.receipt,
            "ledger_reference": topup.ledger_reference,
            "ledger_transaction_id": topup.ledger_transaction_id,
        }
    )


def failed_event(topup: Topup, now: datetime) -> TopupFailed:
    assert topup.status is TopupStatus.FAILED and topup.failure_reason and topup.result_desc
    return TopupFailed.model_validate(
        {
            **_event_fields(topup, now),
            "result_code": topup.result_code,
            "result_desc": topup.result_desc,
            "failure_reason": topup.failure_reason,
        }
    )
