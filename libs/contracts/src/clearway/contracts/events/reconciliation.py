"""Reconciliation events (seed 003): an external transaction reconciled to ledger entries, and a
break (something that stays unreconciled or disagrees) detected."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp


class TransferReconciled(ContractModel):
    """An external transaction is reconciled: the ledger's entries for it are posted."""

    external_transaction_id: str = Field(min_length=1)
    link_id: str = Field(min_length=1)
    external_id: str = Field(min_length=1, description="The bank's or processor's own id of the movement.")
    match_id: str = Field(min_length=1)
    direction: Literal["inbound", "outbound"]
    amount_minor: AmountMinor
    currency: CurrencyCode
    reference: str | None = None
    ledger_id: str = Field(min_length=1)
    entry_iks: list[str] = Field(description="The ledger entries the match posted (idempotency keys).")
    expectation_ids: list[str]
    expectation_sources: list[str] = Field(
        default_factory=list, description="`<source>:<source id>` of each expectation, e.g. `funding:fnd_...`."
    )
    reconciled_at: Timestamp


class BreakDetected(ContractModel):
    """A reconciliation break: act on it, then resolve it at `POST /breaks/{id}/resolution`."""

    break_id: str = Field(min_length=1)
    kind: str = Field(
        min_length=1, description="e.g. `unknown_account`, `balance_mismatch`, `clearing_pending_too_long`."
    )
    subject: str = Field(min_length=1, description="What it is about: an account, a transaction or a payout id.")
    link_id: str | None = None
    detail: dict[str, Any]
    detected_at: Timestamp
