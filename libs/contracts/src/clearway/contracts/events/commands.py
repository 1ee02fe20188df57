"""Commands sent to the ledger over Kafka (`ledger.<command>` topics); the ledger is their only consumer.

A command is a request that may be refused: the outcome comes back as a `ledger.transaction.*` or
`ledger.entry.posted` event, and on `reply_topic` as well when the sender asks for it. Both carry the
sender's deterministic `reference` / `ik`, so a redelivered command posts at most once.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, JsonValue, model_validator

from .ledger import Distribution, PreciseAmount, Precision
from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp


class LedgerTransactionRequested(ContractModel):
    """Move money between balances (Blnk `POST /transactions` semantics).

    Give the amount either as `amount_minor`, or as `precise_amount` with `precision` (for sub-minor
    amounts such as interest); give either `source` or `sources`, and either `destination` or
    `destinations`.
    """

    reference: str = Field(min_length=1, description="Deterministic idempotency key derived from the sender's ids.")
    amount_minor: AmountMinor | None = None
    precise_amount: PreciseAmount | None = None
    precision: Precision | None = None
    currency: CurrencyCode
    source: str | None = Field(default=None, description="Source balance id or @indicator.")
    destination: str | None = Field(default=None, description="Destination balance id or @indicator.")
    sources: list[Distribution] | None = None
    destinations: list[Distribution] | None = None
    allow_overdraft: bool = False
    overdraft_limit: AmountMinor | None = Field(
        default=None,
        description="How far below zero the source may go, in the amount's units; unlimited if absent.",
    )
    inflight: bool = Field(default=False, description="Place a hold (INFLIGHT) instead of applying.")
    inflight_expires_at: Timestamp | None = Field(
        default=None, description="When an uncommitted hold is voided automatically."
    )
    description: str | None = None
    meta_data: dict[str, JsonValue] = Field(default_factory=dict)
    reply_topic: str | None = Field(
        default=None, description="Topic on which the sender also wants the resulting transaction event."
    )

    @model_validator(mode="after")
    def _check_exactly_one_amount_and_route(self) -> Self:
        has_minor = self.amount_minor is not None
        has_precise = self.precise_amount is not None or self.precision is not None
        if has_minor == has_precise:
            raise ValueError("give either amount_minor, or precise_amount with precision")
        if has_precise and (self.precise_amount is None or self.precision is None):
            raise ValueError("precise_amount and precision go together")
        if (self.source is None) == (self.sources is None):
            raise ValueError("give exactly one of source or sources")
        if (self.destination is None) == (self.destinations is None):
            raise ValueError("give exactly one of destination or destinations")
        if self.overdraft_limit is not None and not self.allow_overdraft:
            raise ValueError("overdraft_limit needs allow_overdraft")
        if self.inflight_expires_at is not None and not self.inflight:
            raise ValueError("inflight_expires_at needs inflight")
        return self


class LedgerEntryRequested(ContractModel):
    """Post a named ledger entry type from the ledger's schema (FRAGMENT `addLedgerEntry` semantics)."""

    ledger_id: str = Field(min_length=1)
    entry_type: str = Field(min_length=1, description='The schema\'s entry type, e.g. "split_bulk_payment".')
    ik: str = Field(min_length=1, description="Deterministic idempotency key, unique per ledger.")
    parameters: dict[str, str] = Field(
        default_factory=dict, description="Values for the entry type's parameters (amounts as minor-unit strings)."
    )
    description: str | None = None
