"""Card repayments published by authorization (seed 002 steps 11-12), keyed by card account.

`card.repayment.applied`: a repayment (`POST /card-accounts/{id}/repayments`, or a `transfer.created`
quoting the account's repayment reference) was posted to the ledger as one split transaction. Published
once per repayment, in the same transaction that records it posted.

`card.repayment.refused`: money that arrived for a card account was not applied (today: a transfer
quoting the account's repayment reference in another currency than the account's). Nothing was posted
to the ledger: the money is still where it settled, for reconciliation or operations to return.
Published once per refused repayment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, PositiveAmountMinor, Timestamp, with_examples

RepaymentRefusalReason = Literal["currency_mismatch"]


class RepaymentSplit(ContractModel):
    """Where a repayment went, in the documented order; the parts add up to the amount, except
    `overdue_interest_minor`, which the money does not pay (see its description)."""

    overdue_minor: AmountMinor = Field(description="1. Overdue principal repaid.")
    billed_minor: AmountMinor = Field(description="2. Billed principal repaid.")
    fees_minor: AmountMinor = Field(description="3. Fees payable repaid.")
    transaction_interest_minor: AmountMinor = Field(description="4. Transaction interest repaid.")
    excess_minor: AmountMinor = Field(
        description="An over-payment: what was left after 1-4, credited to card primary towards unbilled spend."
    )
    overdue_interest_minor: AmountMinor = Field(
        description="Overdue interest moved onto card primary (billed with the next cycle) because the repayment "
        "cleared the overdue principal; not part of `amount_minor`."
    )


class CardRepaymentApplied(ContractModel):
    """A card account's repayment was posted to the ledger: the split, and card primary credited with the
    repaid principal."""

    model_config = with_examples(
        {
            "id": "crp_01j0abc",
            "card_account_id": "cac_01j0abc",
            "reference": "transfer:acme-bank:tr_9912",
            "amount_minor": 260000,
            "currency": "USD",
            "split": {
                "overdue_minor": 0,
                "billed_minor": 250000,
                "fees_minor": 3750,
                "transaction_interest_minor": 2000,
                "excess_minor": 4250,
                "overdue_interest_minor": 0,
            },
            "ledger_transaction_id": "txn_01j0abc",
            "occurred_at": "2024-05-20T10:00:01Z",
        }
    )

    id: str = Field(min_length=1, description="Authorization's id of the repayment (`crp_...`).")
    card_account_id: str = Field(min_length=1)
    reference: str = Field(
        min_length=1,
        description="The repayment's reference: the caller's, or `transfer:<processor>:<transfer_id>` for a transfer.",
    )
    amount_minor: PositiveAmountMinor
    currency: CurrencyCode
    split: RepaymentSplit
    ledger_transaction_id: str = Field(
        min_length=1, description="The ledger transaction that split the money over the account's balances."
    )
    occurred_at: Timestamp = Field(description="When the repayment was recorded posted.")


class CardRepaymentRefused(ContractModel):
    """Money quoting a card account's repayment reference was not applied: nothing was posted to the ledger."""

    model_config = with_examples(
        {
            "id": "crp_01j0abd",
            "card_account_id": "cac_01j0abc",
            "reference": "transfer:acme-bank:tr_9913",
            "amount_minor": 100000,
            "currency": "EUR",
            "account_currency": "USD",
            "reason": "currency_mismatch",
            "transfer_id": "tr_9913",
            "processor": "acme-bank",
            "occurred_at": "2024-05-20T10:05:00Z",
        }
    )

    id: str = Field(min_length=1, description="Authorization's id of the refused repayment (`crp_...`).")
    card_account_id: str = Field(min_length=1)
    reference: str = Field(min_length=1, description="`transfer:<processor>:<transfer_id>` for a transfer.")
    amount_minor: PositiveAmountMinor = Field(description="What arrived, in `currency`.")
    currency: CurrencyCode = Field(description="The currency the money arrived in.")
    account_currency: CurrencyCode = Field(description="The card account's currency.")
    reason: RepaymentRefusalReason
    transfer_id: str | None = Field(
        default=None, description="The processor's transfer id, when a transfer brought it."
    )
    processor: str | None = Field(default=None, description="The processor of that transfer.")
    occurred_at: Timestamp = Field(description="When the refusal was recorded.")
