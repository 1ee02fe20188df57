"""Payable lifecycle events, published by funding (seed 000: Lumanu's post-funding flow).

Every event carries the payable's state after the change, so a consumer never needs to ask funding
for it. `status` is funding's own status name (e.g. `pending_approval`, `approved`, `cancelled`,
`paid`); it is a plain string so funding can add a status without breaking this contract.
"""

from __future__ import annotations

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp


class PayableEvent(ContractModel):
    """Fields every payable event shares."""

    payable_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1, description="The workspace (payer) the payable belongs to.")
    payee_id: str = Field(min_length=1, description="Who will be paid.")
    amount_minor: AmountMinor
    currency: CurrencyCode
    status: str = Field(min_length=1, description="The payable's status after this change.")
    external_id: str | None = Field(default=None, description="The client's own id for the payable.")
    occurred_at: Timestamp


class PayableCreated(PayableEvent):
    """A payable was created and awaits approval."""


class PayableApproved(PayableEvent):
    """A payable was approved and can be funded."""

    approved_by: str = Field(min_length=1, description="The principal that approved it.")
    approved_at: Timestamp


class PayableUnapproved(PayableEvent):
    """An approval was withdrawn before the payable was funded."""

    unapproved_by: str | None = None


class PayableCancelled(PayableEvent):
    """A payable was cancelled; it will never be paid."""

    cancelled_by: str | None = None
    reason: str | None = None


class PayablePaid(PayableEvent):
    """A payable's money moved to the payee's wallet; payouts may start."""

    funding_id: str | None = Field(
        default=None, description="The funding that paid it; null when paid from a pre-funded balance."
    )
    ledger_transaction_reference: str = Field(
        min_length=1, description="The ledger transaction `reference` that moved the money."
    )
