"""The operations the posting pipeline runs, and what each one answers."""

from __future__ import annotations

from dataclasses import dataclass

from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.domain.transactions import TransactionRecord, TransferRequest


@dataclass(frozen=True)
class Transfer:
    request: TransferRequest


@dataclass(frozen=True)
class CommitHold:
    transaction_id: str
    amount_minor: int | None = None  # None: everything still held
    reference: str | None = None


@dataclass(frozen=True)
class VoidHold:
    transaction_id: str
    reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Refund:
    transaction_id: str
    reference: str | None = None


@dataclass(frozen=True)
class ApplyScheduled:
    transaction_id: str


Operation = Transfer | CommitHold | VoidHold | Refund | ApplyScheduled


@dataclass(frozen=True)
class OperationResult:
    record: TransactionRecord | None = None
    error: LedgerError | None = None
    replayed: bool = False

    def unwrap(self) -> TransactionRecord:
        if self.error is not None:
            raise self.error
        assert self.record is not None
        return self.record
