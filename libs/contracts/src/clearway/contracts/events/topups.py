"""Wallet top-up events, published by funding (seed 001's C2B flow: an STK push, then the provider's answer).

A top-up is a payment intent: the customer is prompted on their phone, and the provider's callback
(or, when it never comes, a status query) settles it. Phone numbers appear masked only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp, with_examples

TopupResolvedBy = Literal["push", "callback", "status_query"]


class TopupEvent(ContractModel):
    """Fields every top-up event shares."""

    topup_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    identity_id: str = Field(min_length=1, description="The wallet owner (a ledger identity).")
    amount_minor: AmountMinor
    currency: CurrencyCode
    provider: str = Field(min_length=1, description="The mobile-money rail, e.g. `daraja` or `sandbox`.")
    phone_masked: str = Field(min_length=1, description="The paying phone number, masked (`+254******678`).")
    checkout_request_id: str | None = Field(
        default=None, description="The provider's id of the push; null when the push itself was refused."
    )
    resolved_by: TopupResolvedBy = Field(
        description="What settled it: the push answer, the provider's callback, or a status query."
    )
    occurred_at: Timestamp


class TopupSucceeded(TopupEvent):
    """The customer paid and the money is in their wallet (`wallet:<identity_id>`)."""

    model_config = with_examples(
        {
            "topup_id": "top_01j0example",
            "workspace_id": "default",
            "identity_id": "idt_01j0example",
            "amount_minor": 150000,
            "currency": "KES",
            "provider": "sandbox",
            "phone_masked": "+254******678",
            "checkout_request_id": "ws_CO_SBX_0000000001",
            "resolved_by": "callback",
            "receipt": "SBX0000001",
            "ledger_reference": "topup:top_01j0example",
            "ledger_transaction_id": "txn_01j0example",
            "occurred_at": "2024-05-02T14:03:00Z",
        }
    )

    receipt: str | None = Field(
        default=None, description="The provider's receipt; null when only a status query (which omits it) settled it."
    )
    ledger_reference: str = Field(
        min_length=1, description="The ledger transaction `reference` that credited the wallet."
    )
    ledger_transaction_id: str | None = None


class TopupFailed(TopupEvent):
    """The top-up ended without money moving (declined, unreachable, refused by the provider, ...)."""

    model_config = with_examples(
        {
            "topup_id": "top_01j0example",
            "workspace_id": "default",
            "identity_id": "idt_01j0example",
            "amount_minor": 150000,
            "currency": "KES",
            "provider": "sandbox",
            "phone_masked": "+254******678",
            "checkout_request_id": "ws_CO_SBX_0000000002",
            "resolved_by": "callback",
            "result_code": 1032,
            "result_desc": "Request cancelled by user.",
            "failure_reason": "cancelled_by_user",
            "occurred_at": "2024-05-02T14:03:00Z",
        }
    )

    result_code: int | None = Field(default=None, description="The provider's result code (M-Pesa: 1032, 1037, ...).")
    result_desc: str = Field(min_length=1)
    failure_reason: str = Field(
        min_length=1,
        description="A stable reason: `cancelled_by_user`, `unreachable`, `insufficient_balance`, ..., "
        "or the provider error code when the push was refused.",
    )
