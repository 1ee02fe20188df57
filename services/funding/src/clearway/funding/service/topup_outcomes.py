"""Provider answers (a callback, a status query) as domain outcomes: provider types stop here."""

from __future__ import annotations

from clearway.funding.domain.topups import ProviderOutcome
from clearway.providers.mobile_money import StkCallback, StkFailed, StkSucceeded


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
