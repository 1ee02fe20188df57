"""Events that outside processors, banks and mobile-money providers publish.

These shapes are a public contract (ARCHITECTURE, "Events that outside processors publish"): fields may
be added later, never renamed or removed. Nullable fields may also be omitted by the publisher.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp, with_examples


class Counterparty(ContractModel):
    """The other side of a transfer, as far as the processor knows it."""

    name: str | None = None
    account: str | None = Field(default=None, description="The counterparty's account number or handle.")


class TransferCreated(ContractModel):
    """Money settled on one of the platform's bank or wallet accounts (inbound) or left it (outbound)."""

    model_config = with_examples(
        {
            "transfer_id": "trf_8c1f0a",
            "processor": "acme-bank",
            "direction": "inbound",
            "amount_minor": 125000,
            "currency": "USD",
            "account_id": "acct_operating_usd",
            "payment_reference": "INV-2024-0042",
            "counterparty": {"name": "Globex Finance", "account": "021000021-99887766"},
            "settled_at": "2024-05-02T14:03:00Z",
        }
    )

    transfer_id: str = Field(min_length=1, description="The processor's id, unique per processor.")
    processor: str = Field(min_length=1, description="Which processor, bank or provider reports it.")
    direction: Literal["inbound", "outbound"]
    amount_minor: AmountMinor
    currency: CurrencyCode
    account_id: str = Field(min_length=1, description="The platform's bank or wallet account the money settled on.")
    payment_reference: str | None = Field(default=None, description="Reference the sender quoted, if any.")
    counterparty: Counterparty
    settled_at: Timestamp


class CardAuthorizationRequested(ContractModel):
    """A card network asks whether a card may spend an amount (answered by placing a ledger hold)."""

    model_config = with_examples(
        {
            "authorization_id": "auth_5521",
            "card_id": "card_01j0abc",
            "amount_minor": 200000,
            "currency": "USD",
            "merchant_name": "Corner Coffee",
            "merchant_category_code": "5814",
            "channel": "pos",
            "requested_at": "2024-05-02T09:15:27Z",
        }
    )

    authorization_id: str = Field(min_length=1, description="The processor's authorization id.")
    card_id: str = Field(min_length=1)
    amount_minor: AmountMinor
    currency: CurrencyCode
    merchant_name: str
    merchant_category_code: str = Field(
        pattern=r"^[0-9]{4}$", description="ISO 18245 merchant category code, four digits."
    )
    channel: Literal["pos", "ecommerce", "atm"]
    requested_at: Timestamp
    incremental_of: str | None = Field(
        default=None,
        min_length=1,
        description="An incremental authorization (added later, optional): the processor's id of the approved "
        "authorization whose hold this one raises by `amount_minor`; this request has its own `authorization_id`.",
    )


class CardAuthorizationReversed(ContractModel):
    """All or part of an earlier authorization is released."""

    model_config = with_examples(
        {
            "authorization_id": "auth_5521",
            "card_id": "card_01j0abc",
            "amount_minor": 50000,
            "reversed_at": "2024-05-02T10:00:00Z",
        },
        {"authorization_id": "auth_5521", "card_id": "card_01j0abc", "reversed_at": "2024-05-02T10:00:00Z"},
    )

    authorization_id: str = Field(min_length=1)
    card_id: str = Field(min_length=1)
    amount_minor: AmountMinor | None = Field(
        default=None, description="The part reversed, in minor units; the full authorized amount if absent."
    )
    reversed_at: Timestamp


class CardClearingReceived(ContractModel):
    """The network's final amount for a card transaction (commits the hold, or a force post without one)."""

    model_config = with_examples(
        {
            "clearing_id": "clr_7781",
            "authorization_id": "auth_5521",
            "card_id": "card_01j0abc",
            "amount_minor": 198500,
            "currency": "USD",
            "merchant_name": "Corner Coffee",
            "merchant_category_code": "5814",
            "cleared_at": "2024-05-03T02:00:00Z",
        }
    )

    clearing_id: str = Field(min_length=1)
    authorization_id: str | None = Field(default=None, description="Null for force posts (no authorization).")
    card_id: str = Field(min_length=1)
    amount_minor: AmountMinor
    currency: CurrencyCode
    merchant_name: str
    merchant_category_code: str = Field(pattern=r"^[0-9]{4}$")
    cleared_at: Timestamp
