"""Card events published by authorization (seed 002): the answer to a processor's authorization request,
its clearing, and its expiry.

`card.authorization.decided` is published once per processor authorization id, whichever door the
request came through (HTTP or `card.authorization.requested`), keyed by card so one card's decisions
stay in order. A declined authorization placed no hold; `reason` says why with a stable code.
"""

from __future__ import annotations

from datetime import date
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


CardClearingStatus = Literal["posted", "rejected"]


class CardClearingPosted(ContractModel):
    """Authorization posted a processor's clearing (`card.clearing.received` or `POST /clearings`) to the ledger.

    Published once per processor clearing id, keyed by card. `forced`: no open hold was committed
    (no authorization, or one that holds nothing), the amount was posted as its own transaction.
    `difference_minor` is the cleared amount minus what the hold held: positive was posted as its own
    transaction, negative was released. `rejected`: the ledger refused what was over the credit limit.
    """

    model_config = with_examples(
        {
            "id": "ccl_01j0abc",
            "clearing_id": "clr_7781",
            "authorization_id": "auth_5521",
            "card_id": "crd_01j0abc",
            "card_account_id": "cac_01j0abc",
            "amount_minor": 198500,
            "currency": "USD",
            "forced": False,
            "status": "posted",
            "committed_minor": 198500,
            "difference_minor": -1500,
            "fee_minor": 2978,
            "cleared_at": "2024-05-03T02:00:00Z",
            "posted_at": "2024-05-03T02:00:01Z",
        }
    )

    id: str = Field(min_length=1, description="Authorization's id of the clearing.")
    clearing_id: str = Field(min_length=1, description="The processor's clearing id.")
    authorization_id: str | None = Field(default=None, description="The processor's authorization id, if any.")
    card_id: str = Field(min_length=1)
    card_account_id: str = Field(min_length=1)
    amount_minor: AmountMinor
    currency: CurrencyCode
    forced: bool
    status: CardClearingStatus
    committed_minor: AmountMinor = Field(description="Committed from the authorization's hold.")
    difference_minor: SignedAmountMinor = Field(description="Cleared minus held: + posted apart, - released.")
    fee_minor: AmountMinor = Field(description="The markup fee standing after the clearing.")
    cleared_at: Timestamp
    posted_at: Timestamp


class CardAuthorizationExpired(ContractModel):
    """The expiry job voided the hold of an approved authorization that was never cleared or reversed."""

    model_config = with_examples(
        {
            "id": "cau_01j0abc",
            "authorization_id": "auth_5521",
            "card_id": "crd_01j0abc",
            "card_account_id": "cac_01j0abc",
            "amount_minor": 200000,
            "released_minor": 200000,
            "currency": "USD",
            "business_date": "2024-05-10",
            "expired_at": "2024-05-10T00:05:00Z",
        }
    )

    id: str = Field(min_length=1, description="Authorization's id of the authorization.")
    authorization_id: str = Field(min_length=1, description="The processor's authorization id.")
    card_id: str = Field(min_length=1)
    card_account_id: str = Field(min_length=1)
    amount_minor: AmountMinor
    released_minor: AmountMinor = Field(description="What the voided hold still held.")
    currency: CurrencyCode
    business_date: date = Field(description="The business date the expiry job ran for.")
    expired_at: Timestamp
