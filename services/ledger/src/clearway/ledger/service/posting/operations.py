"""The operations the posting pipeline runs, and what each one answers.

Step 2 (`service/commands.py`, `service/entries.py`) builds them; step 3 (this package) applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearway.ledger.domain.entry_rules import ExternalTransaction
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.domain.posting import Status
from clearway.ledger.domain.schema import AccountType, ResolvedEntry
from clearway.ledger.domain.tenancy import PLATFORM, Tenant
from clearway.ledger.domain.transactions import TransactionRecord, TransferRequest


@dataclass(frozen=True)
class Transfer:
    request: TransferRequest
    tenant: Tenant = PLATFORM  # who posts it: the batch refuses balances the tenant may not move


@dataclass(frozen=True)
class CommitHold:
    transaction_id: str
    amount_minor: int | None = None  # None: everything still held
    reference: str | None = None
    tenant: Tenant = PLATFORM


@dataclass(frozen=True)
class VoidHold:
    transaction_id: str
    reference: str | None = None
    reason: str | None = None
    tenant: Tenant = PLATFORM
    amount_minor: int | None = None  # None: everything still held; else a partial release


@dataclass(frozen=True)
class Refund:
    transaction_id: str
    reference: str | None = None
    tenant: Tenant = PLATFORM


@dataclass(frozen=True)
class ApplyScheduled:
    transaction_id: str


@dataclass(frozen=True)
class EntryAccount:
    """A schema account an entry names: the `balances` row with this path and currency."""

    path: str
    currency: str
    account_type: AccountType
    is_linked: bool
    is_clearing: bool


@dataclass(frozen=True)
class PostEntry:
    """Post a resolved schema entry (or the reversal of one) as one APPLIED transaction.

    Lines name accounts by path: the batch gets-or-creates their balances before it locks
    anything, so the same lock order and invariants cover entries and Blnk transfers alike.
    """

    ledger_id: str
    ik: str
    entry: ResolvedEntry
    request_hash: str
    accounts: tuple[EntryAccount, ...]  # every account a line names; created on first use
    condition_accounts: tuple[EntryAccount, ...] = ()  # named only by conditions; looked up, never created
    description: str = ""
    external_transaction: ExternalTransaction | None = None
    reverses_transaction_id: str | None = None  # a reversal: the original entry's transaction

    def __post_init__(self) -> None:
        assert self.entry.is_reversal == (self.reverses_transaction_id is not None)
        assert len(self.entry.currencies) == 1, "one currency per entry (one transaction row)"

    @property
    def reference(self) -> str:
        """The transaction reference; its uniqueness is what makes an ik (and a reversal) post once."""
        if self.reverses_transaction_id is not None:
            return f"entry-reversal:{self.ledger_id}:{self.ik}"
        return f"entry:{self.ledger_id}:{self.ik}"


Operation = Transfer | CommitHold | VoidHold | Refund | ApplyScheduled | PostEntry


@dataclass(frozen=True)
class OperationResult:
    record: TransactionRecord | None = None
    error: LedgerError | None = None
    replayed: bool = False

    @property
    def refused(self) -> bool:
        """Failed, or newly recorded REJECTED: what makes an atomic batch roll back. A replayed
        REJECTED answers an earlier request and refuses nothing new."""
        return self.error is not None or (
            self.record is not None and self.record.status is Status.REJECTED and not self.replayed
        )

    def unwrap(self) -> TransactionRecord:
        if self.error is not None:
            raise self.error
        assert self.record is not None
        return self.record
