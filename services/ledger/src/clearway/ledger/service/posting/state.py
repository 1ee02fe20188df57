"""What one group-commit batch knows while it runs: the rows it read and locked, and what it will write.

Step 3 (posting), shared by its modules: `loading` fills the maps; the operation handlers
(`transfers`, `holds`, `refunds`) read and change them in memory and stage their results here
with `record` and `add_lines`; `writes` hands the staged writes to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.distribution import Leg
from clearway.ledger.domain.errors import NotFound
from clearway.ledger.domain.posting import EntryLine, Hold, Status
from clearway.ledger.domain.tenancy import BalanceOwner, Tenant, check_legs, sees_any
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.events import outbox_row, topic_for, transaction_payload
from clearway.ledger.service.ports import PostingStore
from clearway.ledger.service.posting.entry_poster import EntryPoster
from clearway.ledger.service.posting.operations import OperationResult


@dataclass
class _Writes:
    records: list[TransactionRecord] = field(default_factory=list)
    lines: list[tuple[EntryLine, datetime]] = field(default_factory=list)
    new_holds: list[tuple[Hold, datetime | None]] = field(default_factory=list)
    changed_holds: dict[str, Hold] = field(default_factory=dict)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


class BatchState:
    def __init__(self, store: PostingStore | None, *, now: datetime, new_id: Callable[[str], str]) -> None:
        # None for a fast-lane batch (`fast_lane.py`), which reads and writes through its own store.
        self._store = store
        self.now = now
        self.new_id = new_id
        self.writes = _Writes()
        self.balances: dict[str, BalanceState] = {}
        # Who owns each balance the batch locked (and, for a workspace's replays, read): tenancy.
        self.owners: dict[str, BalanceOwner] = {}
        self.holds: dict[str, tuple[Hold, datetime | None]] = {}
        self.by_reference: dict[str, TransactionRecord] = {}
        self.by_id: dict[str, TransactionRecord] = {}
        self.internal_ids: dict[tuple[str, str], str] = {}

    @property
    def store(self) -> PostingStore:
        assert self._store is not None, "a fast-lane batch has no posting store"
        return self._store

    @cached_property
    def entries(self) -> EntryPoster:
        """Schema entries (PostEntry): accounts by path, conditions, ledger_entries rows."""
        return EntryPoster(self.store.entries, now=self.now, new_id=self.new_id)

    def target(self, transaction_id: str, tenant: Tenant | None = None) -> TransactionRecord:
        """The transaction an operation acts on; another workspace's answers as missing, and one
        whose money the tenant may not move (a hold out of `@World`) is refused."""
        target = self.by_id.get(transaction_id)
        if target is None or (tenant is not None and not self.sees(tenant, target)):
            raise NotFound(f"transaction {transaction_id} not found", transaction_id=transaction_id)
        return target

    def sees(self, tenant: Tenant, record: TransactionRecord) -> bool:
        legs = (*record.debit_legs(), *record.credit_legs())
        return sees_any(tenant, (leg.identifier for leg in legs), self.owners)

    def check_movement(self, tenant: Tenant, debits: Sequence[Leg], credits: Sequence[Leg]) -> None:
        check_legs(tenant, (leg.identifier for leg in debits), (leg.identifier for leg in credits), self.owners)

    def add_lines(self, lines: Sequence[EntryLine], effective_at: datetime) -> None:
        self.writes.lines.extend((line, effective_at) for line in lines)

    def record(self, record: TransactionRecord, *, is_commit: bool) -> OperationResult:
        assert record.status is not Status.QUEUED
        self.writes.records.append(record)
        self.by_reference[record.reference] = record
        self.by_id[record.transaction_id] = record
        topic = topic_for(record, is_commit=is_commit)
        if topic is not None:
            key = (record.debit_legs() or (Leg(record.transaction_id, 0),))[0].identifier
            self.writes.outbox.append(
                outbox_row(topic, key, transaction_payload(record, self.now), record.transaction_id, self.now)
            )
        return OperationResult(record=record)
