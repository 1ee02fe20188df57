"""Events the ledger publishes: transaction outcomes (Blnk style) and schema entries (FRAGMENT style).

Transaction events keep Blnk's vocabulary (`reference`, `parent_transaction`, `precise_amount`,
`precision`, upper-case statuses) because the ledger's HTTP API is Blnk-compatible; `amount_minor` is
the same amount in the currency's minor units, which is what the rest of Clearway reads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue, Strict

from .primitives import (
    AmountMinor,
    ContractModel,
    CurrencyCode,
    SignedAmountMinor,
    Timestamp,
)

LedgerTransactionStatus = Literal["QUEUED", "SCHEDULED", "APPLIED", "INFLIGHT", "COMMIT", "VOID", "REJECTED"]

PreciseAmount = Annotated[
    int, Strict(), Field(ge=0, description="The amount as an integer at `precision` (amount = precise / precision).")
]
Precision = Annotated[
    int, Strict(), Field(gt=0, description="Scale of precise_amount, e.g. 100 for cents (Blnk's precision).")
]


class Distribution(ContractModel):
    """One leg of a split transaction (Blnk's `sources` / `destinations` items)."""

    identifier: str = Field(min_length=1, description="A balance id or an `@indicator`.")
    distribution: str = Field(
        min_length=1,
        description='A fixed amount in the transaction\'s units (e.g. "2000"), a percentage ("20%") or "left".',
    )
    narration: str | None = None


class LedgerTransactionEvent(ContractModel):
    """What every ledger transaction event carries: the transaction as it stands after the change."""

    transaction_id: str = Field(min_length=1)
    reference: str = Field(min_length=1, description="The caller's idempotency key for the transaction.")
    parent_transaction: str | None = Field(
        default=None, description="For a commit, void or split leg: the transaction it derives from."
    )
    status: LedgerTransactionStatus
    amount_minor: AmountMinor
    precise_amount: PreciseAmount
    precision: Precision
    currency: CurrencyCode
    source: str | None = Field(description="Source balance id or @indicator; null when `sources` is used.")
    destination: str | None = Field(
        description="Destination balance id or @indicator; null when `destinations` is used."
    )
    sources: list[Distribution] | None = None
    destinations: list[Distribution] | None = None
    description: str | None = None
    meta_data: dict[str, JsonValue] = Field(default_factory=dict)
    rejection_reason: str | None = Field(default=None, description="Why the ledger refused it (REJECTED only).")
    occurred_at: Timestamp


class LedgerTransactionApplied(LedgerTransactionEvent):
    """The transaction moved money: balances changed (status APPLIED)."""


class LedgerTransactionInflight(LedgerTransactionEvent):
    """A hold was placed: the amount is reserved on the source until committed or voided (INFLIGHT)."""


class LedgerTransactionCommitted(LedgerTransactionEvent):
    """An inflight transaction was committed, fully or partly; `parent_transaction` is the hold."""


class LedgerTransactionVoided(LedgerTransactionEvent):
    """An inflight transaction was voided; its reserved amount is released (VOID)."""


class LedgerTransactionRejected(LedgerTransactionEvent):
    """The ledger refused the transaction, e.g. insufficient funds or overdraft limit (REJECTED)."""


class EntryLine(ContractModel):
    """One posting of a ledger entry to one account balance."""

    account_path: str = Field(min_length=1, description='The ledger account path, e.g. "assets/operating".')
    balance_id: str = Field(min_length=1)
    amount_minor: SignedAmountMinor
    currency: CurrencyCode


class LedgerEntryPosted(ContractModel):
    """A schema-driven ledger entry (FRAGMENT style) was posted; its lines are in the books."""

    ledger_id: str = Field(min_length=1)
    entry_type: str = Field(min_length=1, description='The schema\'s entry type, e.g. "reconcile_payment".')
    ik: str = Field(min_length=1, description="The entry's idempotency key, unique per ledger.")
    lines: list[EntryLine] = Field(min_length=1)
    parameters: dict[str, str] = Field(default_factory=dict, description="Parameters the entry was posted with.")
    description: str | None = None
    occurred_at: Timestamp


class LedgerClearingCleared(ContractModel):
    """A clearing account's balance in one currency returned to zero: that payment step is complete."""

    ledger_id: str = Field(min_length=1)
    account_path: str = Field(min_length=1)
    balance_id: str = Field(min_length=1)
    currency: CurrencyCode
    entry_ik: str | None = Field(default=None, description="The entry whose posting cleared it.")
    occurred_at: Timestamp


class MonitorCondition(ContractModel):
    """The condition a balance monitor watches (Blnk's monitor `condition`)."""

    field: str = Field(min_length=1, description='The balance field watched, e.g. "balance" or "debit_balance".')
    operator: Literal[">", ">=", "<", "<=", "=", "!="]
    value_minor: SignedAmountMinor


class LedgerBalanceMonitorTriggered(ContractModel):
    """A balance crossed a monitored threshold."""

    monitor_id: str = Field(min_length=1)
    balance_id: str = Field(min_length=1)
    ledger_id: str | None = None
    currency: CurrencyCode
    condition: MonitorCondition
    observed_value_minor: SignedAmountMinor = Field(description="The watched field's value that triggered it.")
    description: str | None = None
    meta_data: dict[str, JsonValue] = Field(default_factory=dict)
    occurred_at: Timestamp
