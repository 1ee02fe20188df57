"""What a service says to and hears from the ledger: postings, balances, transactions, refusals.

Pure values and errors, no I/O: a service's domain layer builds `Posting`s from these and its
service layer reads `LedgerBalance` and `LedgerTransaction` answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clearway.platform.outages import DependencyUnavailableError

# A user's or an organisation's wallet is the balance with indicator `wallet:<identity_id>`; the
# internal balances a service moves money through are `@<Name>` indicators the ledger creates on use.
WALLET_PREFIX = "wallet:"

# The statuses the ledger records a transaction with (`transaction_json`'s "status").
APPLIED = "APPLIED"  # posted; also a commit of a hold (a child transaction of it)
INFLIGHT = "INFLIGHT"  # a hold. It keeps this status after a commit or void: those are its children
REJECTED = "REJECTED"  # recorded, moved nothing (e.g. insufficient funds); its reference is used up
VOID = "VOID"  # the release of what a hold still held (a child transaction of it)
SCHEDULED = "SCHEDULED"  # to apply at its `scheduled_for`
TRANSACTION_STATUSES = frozenset({APPLIED, INFLIGHT, REJECTED, VOID, SCHEDULED})
# The status of a posting a bulk request refused without recording a transaction for it (an
# unknown balance, a reference reused with another payload): `rejection_reason` says why.
REFUSED = "REFUSED"


def wallet_indicator(identity_id: str) -> str:
    return f"{WALLET_PREFIX}{identity_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Posting:
    """One movement, posted once per `reference`: the same posting again is answered as a replay."""

    amount_minor: int
    currency: str
    reference: str
    source: str  # a balance id or an indicator
    destination: str
    allow_overdraft: bool = False
    inflight: bool = False  # a hold: reserved now, committed or voided later
    description: str = ""
    meta_data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.amount_minor > 0, "the ledger moves positive amounts"
        assert self.source != self.destination, "a posting moves money between two balances"
        assert not (self.allow_overdraft and self.source.startswith(WALLET_PREFIX)), "wallets never overdraw"


@dataclass(frozen=True, slots=True)
class LedgerBalance:
    balance_id: str
    balance_minor: int
    inflight_debit_minor: int
    currency: str
    inflight_credit_minor: int = 0

    @property
    def available_minor(self) -> int:
        """What can still be spent: the balance less what open holds reserve from it."""
        return self.balance_minor - self.inflight_debit_minor


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    transaction_id: str  # empty when the status is REFUSED: nothing was recorded
    reference: str
    status: str  # one of TRANSACTION_STATUSES, or REFUSED
    rejection_reason: str | None = None
    # True when `post` was answered with the transaction a first request recorded. A repeated
    # commit or void is answered with the first one too, but the ledger does not flag it.
    replayed: bool = False
    # The hold a commit (APPLIED) or void (VOID) settles; None for a transaction of its own.
    parent_transaction_id: str | None = None
    amount_minor: int | None = None  # None when the status is REFUSED


@dataclass(frozen=True, slots=True)
class LedgerHold:
    """An INFLIGHT transaction as `GET /transactions?status=INFLIGHT` lists it. It keeps that status
    after it is committed or voided, so what it still holds is asked separately."""

    transaction_id: str
    reference: str
    amount_minor: int
    currency: str
    source: str  # a balance id; a split's balance ids joined by ","
    destination: str
    created_at: datetime


# A schema entry's `status` (`entry_json`): posted, or undone by `reverse_entry`.
ENTRY_POSTED = "posted"
ENTRY_REVERSED = "reversed"
ENTRY_STATUSES = frozenset({ENTRY_POSTED, ENTRY_REVERSED})
# A clearing account's `clearing_status`: pending while its balance is non-zero, cleared at zero.
CLEARING_PENDING = "pending"
CLEARING_CLEARED = "cleared"
CLEARING_STATUSES = frozenset({CLEARING_PENDING, CLEARING_CLEARED})


@dataclass(frozen=True, slots=True)
class LedgerRef:
    """A ledger (FRAGMENT style: schemas and entries post to it); `ik` is the key it was created with."""

    ledger_id: str
    name: str
    ik: str | None


@dataclass(frozen=True, slots=True)
class SchemaEntry:
    """A posted schema entry (FRAGMENT `addLedgerEntry` / `reconcileTx`), as the ledger answers it.

    `lines` are `{"account_path", "balance_id", "amount_minor", "currency"}`, amounts signed in the
    account's natural sign. `replayed` is True when the answer is the entry an earlier request with
    the same ik posted (or, for `reverse_entry`, the reversal an earlier call posted).
    """

    ik: str
    type: str
    status: str  # ENTRY_POSTED or ENTRY_REVERSED
    transaction_id: str | None
    lines: tuple[dict[str, Any], ...]
    replayed: bool = False
    entry_id: str | None = None
    amount_minor: int | None = None  # what the entry moved: its debits (= its credits)
    currency: str | None = None
    reversed_by: str | None = None  # the reversal's transaction id
    external_transaction_id: str | None = None  # what a reconciling entry reconciled


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    """A schema account (`GET /ledgers/{id}/accounts`): one per path and currency.

    `own_balance_minor` is in the account's natural sign (assets debit-normal, liabilities
    credit-normal); `clearing_status` is set only for clearing accounts. `account_id` (the balance
    id) is the cursor: pass the last one of a page as `starting_after` for the next.
    """

    path: str
    type: str  # asset, liability, income, expense, equity
    currency: str | None
    own_balance_minor: int
    clearing_status: str | None  # CLEARING_PENDING, CLEARING_CLEARED, or None (not a clearing account)
    linked: bool
    clearing: bool
    template: bool
    account_id: str | None = None
    ledger_id: str | None = None


class LedgerUnavailableError(DependencyUnavailableError):
    """The ledger could not be reached or kept failing (5xx) after bounded retries: an outage, so a
    consumer waits for the ledger instead of dead-lettering what it was handling."""


class LedgerAnswerInvalidError(LedgerUnavailableError):
    """The ledger answered 2xx, but the answer breaks its contract (a missing or misplaced slot, another
    currency, an unknown status). Nothing in it is trusted: callers treat it as the ledger being
    unavailable and a later pass asks again."""


@dataclass(frozen=True, slots=True)
class BulkFailure:
    """Why one posting of a refused atomic bulk failed (`code` REJECTED: its source cannot cover it)."""

    index: int
    code: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class AtomicPosting:
    """An atomic bulk's answer: every posting applied (`transactions`, in order; a posting already
    applied is a replay), or none (`failures`); with the balances the new postings moved, as the bulk
    left them, or as they stand when it was refused. A balance only replays touched is absent."""

    transactions: tuple[LedgerTransaction, ...]
    failures: tuple[BulkFailure, ...]
    balances: Mapping[str, LedgerBalance]

    @property
    def applied(self) -> bool:
        return not self.failures


class LedgerRefusedError(Exception):
    """The ledger answered 4xx: the request is wrong or conflicts with the ledger's state."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"ledger refused ({status} {code}): {detail}")
        self.status = status
        self.code = code
        self.detail = detail
