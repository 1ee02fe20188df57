"""Card events published by authorization (seed 002): the answer to a processor's authorization request.

`card.authorization.decided` is published once per processor authorization id, whichever door the
request came through (HTTP or `card.authorization.requested`), keyed by card so one card's decisions
stay in order. A declined authorization placed no hold; `reason` says why with a stable code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, SignedAmountMinor, Timestamp, with_examples

AuthorizationDecision = Literal["approved", "declined"]
DeclineReason = Literal[
    "insufficient_funds", "card_inactive", "control_violation", "velocity_exceeded", "invalid_request"
]


class CardAuthorizationDecided(ContractModel):
    """Authorization decided an authorization request: approved (a ledger hold placed) or declined."""

    model_config = with_examples(
        {
            "id": "cau_01j0abc",
            "authorization_id": "auth_5521",
            "card_id": "crd_01j0abc",
            "card_account_id": "cac_01j0abc",
            "decision": "approved",
            "reason": None,
            "amount_minor": 200000,
            "currency": "USD",
            "available_credit_minor": 300000,
            "hold_transaction_id": "txn_01j0abc",
            "fee_minor": 3000,
            "decided_at": "2024-05-02T09:15:27Z",
        },
        {
            "id": "cau_01j0abd",
            "authorization_id": "auth_5522",
            "card_id": "crd_01j0abc",
            "card_account_id": "cac_01j0abc",
            "decision": "declined",
            "reason": "insufficient_funds",
            "amount_minor": 300001,
            "currency": "USD",
            "available_credit_minor": 300000,
            "hold_transaction_id": None,
            "fee_minor": 0,
            "decided_at": "2024-05-02T09:16:02Z",
        },
    )

    id: str = Field(min_length=1, description="Authorization's id of the decision.")
    authorization_id: str = Field(min_length=1, description="The processor's authorization id.")
    card_id: str = Field(min_length=1)
    card_account_id: str | None = Field(default=None, description="Null when the card is unknown.")
    decision: AuthorizationDecision
    reason: DeclineReason | None = Field(default=None, description="Why it was declined; null when approved.")
    amount_minor: AmountMinor
    currency: CurrencyCode
    available_credit_minor: SignedAmountMinor | None = Field(
        default=None, description="The account's available credit after the decision, when known."
    )
    hold_transaction_id: str | None = Field(default=None, description="The ledger hold of an approved authorization.")
    fee_minor: AmountMinor = Field(default=0, description="The markup fee posted for an approved authorization.")
    decided_at: Timestamp
