"""Funding events, published by funding (seed 000: one invoice for a batch of approved payables)."""

from __future__ import annotations

import datetime

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp


class FundingCreated(ContractModel):
    """A funding invoice was created; reconciliation expects a deposit of `total_minor`."""

    funding_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    payable_ids: list[str] = Field(description="The payables it pays; empty for pre-funding.")
    total_minor: AmountMinor
    currency: CurrencyCode
    invoice_number: str = Field(min_length=1)
    payment_reference: str = Field(
        min_length=1, description="The reference the payer is asked to quote; used to match the deposit."
    )
    due_date: datetime.date
    occurred_at: Timestamp


class FundingDepositLinked(ContractModel):
    """A settled transfer was linked to a funding as its deposit (`POST /funding/{id}/link-deposit`)."""

    funding_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    transfer_id: str = Field(min_length=1, description="The `transfer.created` transfer_id linked.")
    processor: str = Field(min_length=1, description="The transfer's processor (transfer ids are per processor).")
    amount_minor: AmountMinor = Field(description="The deposit's amount as settled.")
    currency: CurrencyCode
    payable_ids: list[str]
    occurred_at: Timestamp


class FundingInvoiceSent(ContractModel):
    """The funding invoice was sent to its recipient."""

    funding_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    invoice_number: str = Field(min_length=1)
    recipient: str = Field(min_length=1, description="Where the invoice went (e.g. an email address).")
    total_minor: AmountMinor
    currency: CurrencyCode
    due_date: datetime.date
    occurred_at: Timestamp
    # Added later (additive): where the document is, and how it went out.
    document_url: str | None = Field(default=None, description="Where the invoice PDF can be fetched.")
    channel: str | None = Field(
        default=None, description="How it was delivered: `email` (sent over SMTP) or `event` (this event only)."
    )


class FundingCancelled(ContractModel):
    """A funding invoice will not be paid: cancelled by a person or expired unpaid. Its payables are
    approved again and may join another funding; a deposit quoting its reference is no longer expected."""

    funding_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    status: str = Field(min_length=1, description="`cancelled` or `expired`.")
    invoice_number: str = Field(min_length=1)
    payment_reference: str = Field(min_length=1)
    payable_ids: list[str]
    cancelled_by: str | None = Field(default=None, description="The principal that cancelled it; null when expired.")
    occurred_at: Timestamp
