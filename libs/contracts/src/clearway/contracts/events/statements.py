"""`statement.closed`: authorization closed a card account's billing cycle (seed 002 step 9).

Published once per (card account, statement number), keyed by card account. `principal_minor` is
what card primary owed at close; `billed_minor` what this close moved into the billed balance (the
principal not billed before); the amounts owed are positive.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp, with_examples


class StatementClosed(ContractModel):
    """A card account's billing cycle closed: a statement numbered from 1 and its billed-balance transfer."""

    model_config = with_examples(
        {
            "card_account_id": "cac_01j0abc",
            "number": 1,
            "currency": "USD",
            "period_start": "2024-04-01",
            "period_end": "2024-05-01",
            "due_date": "2024-05-22",
            "principal_minor": 250000,
            "billed_minor": 250000,
            "fees_minor": 3750,
            "interest_minor": 2000,
            "total_due_minor": 255750,
            "transactions_count": 2,
            "closed_at": "2024-05-01T00:05:00Z",
        }
    )

    card_account_id: str = Field(min_length=1)
    number: int = Field(ge=1, description="The statement's number, from 1 per card account.")
    currency: CurrencyCode
    period_start: date = Field(description="The day after the previous close (or the account's opening day).")
    period_end: date = Field(description="The business date the cycle closed on.")
    due_date: date = Field(description="Unpaid after this day, the billed balance becomes overdue.")
    principal_minor: AmountMinor = Field(description="Card primary's outstanding at close.")
    billed_minor: AmountMinor = Field(description="What this close moved into the billed balance.")
    fees_minor: AmountMinor
    interest_minor: AmountMinor = Field(description="Transaction interest plus overdue interest at close.")
    total_due_minor: AmountMinor = Field(description="Billed and overdue principal, fees and interest.")
    transactions_count: int = Field(ge=0, description="Cleared transactions on the statement.")
    closed_at: Timestamp
