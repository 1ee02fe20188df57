"""Domain objects to the contract events that announce their changes."""

from __future__ import annotations

from datetime import datetime

from clearway.contracts.events import (
    FundingCancelled,
    FundingCreated,
    FundingDepositLinked,
    FundingInvoiceSent,
    PayableApproved,
    PayableCancelled,
    PayableCreated,
    PayablePaid,
    PayableUnapproved,
    TopupFailed,
    TopupSucceeded,
)
from clearway.funding.domain.fundings import Funding
from clearway.funding.domain.payables import Payable
from clearway.funding.domain.topups import Topup, TopupStatus
from clearway.providers.mobile_money import mask_phone


def _common(payable: Payable, now: datetime) -> dict[str, object]:
    return {
        "payable_id": payable.id,
        "workspace_id": payable.workspace_id,
        "payee_id": payable.payee_id,
        "amount_minor": payable.amount_minor,
        "currency": payable.currency,
        "status": payable.status.value,
        "external_id": payable.external_id,
        "occurred_at": now,
    }


def payable_created(payable: Payable, now: datetime) -> PayableCreated:
    return PayableCreated.model_validate(_common(payable, now))


def payable_approved(payable: Payable, now: datetime) -> PayableApproved:
    assert payable.approved_by is not None and payable.approved_at is not None
    return PayableApproved.model_validate(
        {**_common(payable, now), "approved_by": payable.approved_by, "approved_at": payable.approved_at}
    )


def payable_unapproved(payable: Payable, now: datetime) -> PayableUnapproved:
    return PayableUnapproved.model_validate({**_common(payable, now), "unapproved_by": payable.unapproved_by})


def payable_cancelled(payable: Payable, now: datetime) -> PayableCancelled:
    return PayableCancelled.model_validate({**_common(payable, now), "cancelled_by": payable.cancelled_by})


def payable_paid(payable: Payable, now: datetime) -> PayablePaid:
    assert payable.ledger_reference is not None
    return PayablePaid.model_validate(
        {
            **_common(payable, now),
            "funding_id": payable.funding_id,
            "ledger_transaction_reference": payable.ledger_reference,
        }
    )


def funding_created(funding: Funding, now: datetime) -> FundingCreated:
    return FundingCreated(
        funding_id=funding.id,
        workspace_id=funding.workspace_id,
        payable_ids=funding.payable_ids,
        total_minor=funding.total_minor,
        currency=funding.currency,
        invoice_number=funding.invoice_number,
        payment_reference=funding.payment_reference,
        due_date=funding.due_date,
        occurred_at=now,
    )


def funding_deposit_linked(funding: Funding, now: datetime) -> FundingDepositLinked:
    assert funding.deposit is not None
    return FundingDepositLinked(
        funding_id=funding.id,
        workspace_id=funding.workspace_id,
        transfer_id=funding.deposit.transfer_id,
        processor=funding.deposit.processor,
        amount_minor=funding.deposit.amount_minor,
        currency=funding.currency,
        payable_ids=funding.payable_ids,
        occurred_at=now,
    )


def funding_invoice_sent(funding: Funding, now: datetime, *, document_url: str, channel: str) -> FundingInvoiceSent:
    return FundingInvoiceSent(
        funding_id=funding.id,
        workspace_id=funding.workspace_id,
        invoice_number=funding.invoice_number,
        recipient=funding.recipient.email,
        total_minor=funding.total_minor,
        currency=funding.currency,
        due_date=funding.due_date,
        occurred_at=now,
        document_url=document_url,
        channel=channel,
    )


def funding_cancelled(funding: Funding, now: datetime, *, by: str | None) -> FundingCancelled:
    return FundingCancelled(
        funding_id=funding.id,
        workspace_id=funding.workspace_id,
        status=funding.status.value,
        invoice_number=funding.invoice_number,
        payment_reference=funding.payment_reference,
        payable_ids=funding.payable_ids,
        cancelled_by=by,
        occurred_at=now,
    )


def _topup_fields(topup: Topup, now: datetime) -> dict[str, object]:
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


def topup_succeeded(topup: Topup, now: datetime) -> TopupSucceeded:
    assert topup.status is TopupStatus.SUCCEEDED and topup.ledger_reference is not None
    return TopupSucceeded.model_validate(
        {
            **_topup_fields(topup, now),
            "receipt": topup.receipt,
            "ledger_reference": topup.ledger_reference,
            "ledger_transaction_id": topup.ledger_transaction_id,
        }
    )


def topup_failed(topup: Topup, now: datetime) -> TopupFailed:
    assert topup.status is TopupStatus.FAILED and topup.failure_reason and topup.result_desc
    return TopupFailed.model_validate(
        {
            **_topup_fields(topup, now),
            "result_code": topup.result_code,
            "result_desc": topup.result_desc,
            "failure_reason": topup.failure_reason,
        }
    )
