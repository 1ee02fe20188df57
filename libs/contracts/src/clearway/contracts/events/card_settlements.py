"""Card-network settlement, as a card processor publishes it (seed 003's batches of batches).

Each day a network sends one settlement report (what it pays, per clearing) and one clearing file per
clearing (its individual card transactions). A public contract like the rest of processor.py: fields
may be added later, never renamed or removed.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, with_examples

CLEARINGS_MAX = 1_000
CARD_TRANSACTIONS_MAX = 10_000


class SettledClearing(ContractModel):
    clearing_id: str = Field(min_length=1, max_length=200)
    amount_minor: AmountMinor


class CardSettlementReceived(ContractModel):
    """The network's settlement report: the bank will receive the clearings' total under `settlement_id`."""

    model_config = with_examples(
        {
            "settlement_id": "SET-2024-05-03",
            "network": "visa",
            "account_id": "acct_card_settlements_usd",
            "currency": "USD",
            "settled_on": "2024-05-03",
            "clearings": [
                {"clearing_id": "CLR-1", "amount_minor": 500000},
                {"clearing_id": "CLR-2", "amount_minor": 250000},
            ],
        }
    )

    settlement_id: str = Field(min_length=1, max_length=200, description="The network's id; the bank's reference.")
    network: str = Field(min_length=1, max_length=100)
    account_id: str = Field(
        min_length=1, max_length=200, description="The platform's bank account the settlement is paid into."
    )
    currency: CurrencyCode
    settled_on: date | None = None
    clearings: list[SettledClearing] = Field(min_length=1, max_length=CLEARINGS_MAX)


class ClearedCardTransaction(ContractModel):
    card_transaction_id: str = Field(min_length=1, max_length=200)
    account_path: str = Field(
        min_length=1, max_length=300, description="The account it credits: `liabilities/user_balances:<user>`."
    )
    amount_minor: AmountMinor


class CardClearingFileReceived(ContractModel):
    """One clearing's file: the card transactions its amount in the settlement report is made of."""

    model_config = with_examples(
        {
            "clearing_id": "CLR-1",
            "network": "visa",
            "account_id": "acct_card_settlements_usd",
            "currency": "USD",
            "transactions": [
                {
                    "card_transaction_id": "ctx_1",
                    "account_path": "liabilities/user_balances:usr_a",
                    "amount_minor": 300000,
                },
                {
                    "card_transaction_id": "ctx_2",
                    "account_path": "liabilities/user_balances:usr_b",
                    "amount_minor": 200000,
                },
            ],
        }
    )

    clearing_id: str = Field(min_length=1, max_length=200)
    network: str = Field(min_length=1, max_length=100)
    account_id: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    transactions: list[ClearedCardTransaction] = Field(min_length=1, max_length=CARD_TRANSACTIONS_MAX)
