"""Group commit: run many ledger operations in one database transaction.

Order of work, the same for every batch so concurrent batches cannot deadlock:
look up references, lock the holds involved (by id), create missing internal balances,
lock every balance involved (by id), apply each operation in memory in arrival order,
then write transactions and entries with COPY and update each touched balance once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from clearway.ledger.adapters.repository import LedgerRepository
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.distribution import Leg, split_amount
from clearway.ledger.domain.entry_rules import IkReused
from clearway.ledger.domain.errors import (
    AlreadyRefunded,
    HoldExceeded,
    InvalidRequest,
    LedgerError,
    NotFound,
    ReferenceConflict,
    StateConflict,
)
from clearway.ledger.domain.monitors import crossings, field_value
from clearway.ledger.domain.posting import (
    EntryLine,
    Hold,
    Posting,
    Status,
    apply_posting,
    commit_hold,
    reversal_of,
    void_hold,
)
from clearway.ledger.domain.transactions import TransactionRecord, TransferRequest, is_internal_identifier
from clearway.ledger.service.entry_batch import EntryPoster, is_entry_transaction
from clearway.ledger.service.events import monitor_payload, outbox_row, topic_for, transaction_payload
from clearway.ledger.service.operations import (
    ApplyScheduled,
    CommitHold,
    Operation,
    OperationResult,
    PostEntry,
    Refund,
    Transfer,
    VoidHold,
)

BATCH_OPERATIONS_MAX = 10_000


@dataclass
class _Writes:
    records: list[TransactionRecord] = field(default_factory=list)
    lines: list[tuple[EntryLine, datetime]] = field(default_factory=list)
    new_holds: list[tuple[Hold, datetime | None]] = field(default_factory=list)
    changed_holds: dict[str, Hold] = field(default_factory=dict)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


class BatchExecutor:
    def __init__(self, repository: LedgerRepository, *, now: datetime, new_id: Callable[[str], str]) -> None:
        self.repository = repository
        self.now = now
        self.new_id = new_id
        self.writes = _Writes()
        self.balances: dict[str, BalanceState] = {}
        self.holds: dict[str, tuple[Hold, datetime | None]] = {}
        self.by_reference: dict[str, TransactionRecord] = {}
        self.by_id: dict[str, TransactionRecord] = {}
        self.internal_ids: dict[tuple[str, str], str] = {}
        # Schema entries (PostEntry): accounts by path, conditions, ledger_entries rows.
        self.entries = EntryPoster(repository.connection, now=now, new_id=new_id)

    # ---- loading ------------------------------------------------------------------------

    async def _load(self, operations: Sequence[Operation]) -> None:
        references = [op.request.reference for op in operations if isinstance(op, Transfer)]
        references += [
            op.reference for op in operations if not isinstance(op, Transfer | ApplyScheduled) and op.reference
        ]
        target_ids = [op.transaction_id for op in operations if not isinstance(op, Transfer | PostEntry)]
        self.by_id = await self.repository.transactions_by_id(target_ids)
        references += [f"{record.reference}:refund" for record in self.by_id.values()]
        references += [f"{record.reference}:scheduled" for record in self.by_id.values()]
        self.by_reference = await self.repository.transactions_by_reference(references)
        hold_ids = [op.transaction_id for op in operations if isinstance(op, CommitHold | VoidHold)]
        self.holds = await self.repository.lock_holds(hold_ids)

        wanted_internal: set[tuple[str, str]] = set()
        balance_ids: set[str] = set()
        precisions: dict[str, int] = {}
        for op in operations:
            if isinstance(op, Transfer) and op.request.reference not in self.by_reference:
                precisions[op.request.currency] = op.request.currency_precision
                for identifier in op.request.identifiers():
                    if is_internal_identifier(identifier):
                        wanted_internal.add((identifier, op.request.currency))
                    else:
                        balance_ids.add(identifier)
        for hold, _ in self.holds.values():
            balance_ids.update(leg.identifier for leg in (*hold.debits, *hold.credits))
        for record in self.by_id.values():
            balance_ids.update(leg.identifier for leg in (*record.debit_legs(), *record.credit_legs()))
        if wanted_internal:
            new_ids = [self.new_id("bln") for _ in wanted_internal]
            self.internal_ids = await self.repository.ensure_internal_balances(
                sorted(wanted_internal), precisions, new_ids
            )
            balance_ids.update(self.internal_ids.values())
        # Entry accounts are got-or-created here, before any balance is locked (same lock order).
        new_entries = [op for op in operations if isinstance(op, PostEntry) and op.reference not in self.by_reference]
        if new_entries:
            balance_ids.update(await self.entries.load(new_entries))
        self.balances = await self.repository.lock_balances(balance_ids)
        # A batch that refunded or settled the same targets held these locks until it committed,
        # so its rows are visible only now: look again, or a lost race answers with a misleading
        # refusal ("insufficient funds", "already settled") instead of ALREADY_REFUNDED or a replay.
        settled = [f"{record.reference}:refund" for record in self.by_id.values()]
        settled += [op.reference for op in operations if isinstance(op, CommitHold | VoidHold) and op.reference]
        if settled:
            self.by_reference.update(await self.repository.transactions_by_reference(settled))

    # ---- running ------------------------------------------------------------------------

    async def run(self, operations: Sequence[Operation]) -> list[OperationResult]:
        assert len(operations) <= BATCH_OPERATIONS_MAX
        await self._load(operations)
        results: list[OperationResult] = []
        for op in operations:
            try:
                results.append(self._run_one(op))
            except LedgerError as error:
                results.append(OperationResult(error=error))
        await self._flush()
        return results

    def _run_one(self, op: Operation) -> OperationResult:
        if isinstance(op, Transfer):
            return self._transfer(op.request)
        if isinstance(op, CommitHold):
            return self._commit(op)
        if isinstance(op, VoidHold):
            return self._void(op)
        if isinstance(op, Refund):
            return self._refund(op)
        if isinstance(op, PostEntry):
            return self._post_entry(op)
        return self._apply_scheduled(op)

    def _post_entry(self, op: PostEntry) -> OperationResult:
        existing = self.by_reference.get(op.reference)
        if existing is not None:
            if existing.request_hash != op.request_hash:
                raise IkReused(
                    f"ik {op.ik!r} was already used for a different entry on ledger {op.ledger_id}",
                    transaction_id=existing.transaction_id,
                )
            return OperationResult(record=existing, replayed=True)
        posted = self.entries.post(op, self.balances, self.new_id("txn"))
        self._add_lines(posted.lines, posted.record.effective_date)
        self.writes.outbox.extend(posted.outbox)
        return self._record(posted.record, is_commit=False)

    def _transfer(self, request: TransferRequest) -> OperationResult:
        existing = self.by_reference.get(request.reference)
        if existing is not None:
            if existing.request_hash != request.fingerprint():
                raise ReferenceConflict(
                    f"reference {request.reference!r} was already used for a different transaction",
                    transaction_id=existing.transaction_id,
                )
            return OperationResult(record=existing, replayed=True)
        debits, credits = self._legs(request)
        if {leg.identifier for leg in debits} & {leg.identifier for leg in credits}:
            raise InvalidRequest("source and destination must be different balances")
        record = TransactionRecord(
            transaction_id=self.new_id("txn"),
            reference=request.reference,
            status=Status.QUEUED,
            currency=request.currency,
            amount_minor=request.amount_minor,
            precision=request.currency_precision,
            request_hash=request.fingerprint(),
            created_at=self.now,
            effective_date=request.effective_date or self.now,
            source=request.source,
            destination=request.destination,
            sources=_leg_documents(request.sources or None, debits, request.source),
            destinations=_leg_documents(request.destinations or None, credits, request.destination),
            allow_overdraft=request.allow_overdraft,
            overdraft_limit_minor=request.overdraft_limit_minor,
            inflight=request.inflight,
            inflight_expiry_date=request.inflight_expiry_date,
            scheduled_for=request.scheduled_for,
            description=request.description,
            meta_data=request.meta_data,
        )
        if request.scheduled_for is not None and request.scheduled_for > self.now:
            return self._record(replace(record, status=Status.SCHEDULED), is_commit=False)
        posting = Posting(
            transaction_id=record.transaction_id,
            currency=request.currency,
            debits=debits,
            credits=credits,
            inflight=request.inflight,
            allow_overdraft=request.allow_overdraft,
            overdraft_limit_minor=request.overdraft_limit_minor,
        )
        return self._post(record, posting, expires_at=request.inflight_expiry_date)

    def _post(self, record: TransactionRecord, posting: Posting, *, expires_at: datetime | None) -> OperationResult:
        outcome = apply_posting(posting, self.balances)
        record = replace(record, status=outcome.status, rejection_reason=outcome.rejection_reason)
        if outcome.rejection_reason:
            record = replace(record, meta_data={**record.meta_data, "blnk_rejection_reason": outcome.rejection_reason})
        self._add_lines(outcome.lines, record.effective_date)
        if outcome.status is Status.INFLIGHT:
            hold = Hold(
                transaction_id=record.transaction_id,
                currency=posting.currency,
                debits=posting.debits,
                credits=posting.credits,
                amount_minor=posting.amount_minor,
            )
            self.holds[hold.transaction_id] = (hold, expires_at)
            self.writes.new_holds.append((hold, expires_at))
        return self._record(record, is_commit=False)

    def _legs(self, request: TransferRequest) -> tuple[tuple[Leg, ...], tuple[Leg, ...]]:
        if request.debit_legs:
            debits, credits = request.debit_legs, request.credit_legs
        else:
            debits = self._side(request.source, request.sources, request)
            credits = self._side(request.destination, request.destinations, request)
        resolved = (
            tuple(Leg(self._balance_id(leg.identifier, request.currency), leg.amount_minor) for leg in debits),
            tuple(Leg(self._balance_id(leg.identifier, request.currency), leg.amount_minor) for leg in credits),
        )
        return resolved

    @staticmethod
    def _side(single: str | None, distributions: Sequence[Any], request: TransferRequest) -> tuple[Leg, ...]:
        if distributions:
            return tuple(split_amount(request.amount_minor, list(distributions), request.currency_precision))
        if not single:
            raise InvalidRequest("a transaction needs a source (or sources) and a destination (or destinations)")
        return (Leg(single, request.amount_minor),)

    def _balance_id(self, identifier: str, currency: str) -> str:
        balance_id = self.internal_ids.get((identifier, currency)) if is_internal_identifier(identifier) else identifier
        if balance_id is None or balance_id not in self.balances:
            raise NotFound(f"balance {identifier} not found", balance_id=identifier)
        return balance_id

    def _child(
        self,
        parent: TransactionRecord,
        status: Status,
        amount_minor: int,
        reference: str | None,
        debits: tuple[Leg, ...],
        credits: tuple[Leg, ...],
        meta: dict[str, Any] | None = None,
    ) -> TransactionRecord:
        return replace(
            parent,
            transaction_id=self.new_id("txn"),
            parent_transaction=parent.transaction_id,
            reference=reference or self.new_id("ref"),
            status=status,
            amount_minor=amount_minor,
            created_at=self.now,
            effective_date=self.now,
            sources=_leg_documents(None, debits, parent.source),
            destinations=_leg_documents(None, credits, parent.destination),
            inflight=False,
            meta_data={**parent.meta_data, **(meta or {})},
            rejection_reason=None,
        )

    def _target(self, transaction_id: str) -> TransactionRecord:
        target = self.by_id.get(transaction_id)
        if target is None:
            raise NotFound(f"transaction {transaction_id} not found", transaction_id=transaction_id)
        return target

    def _explicit_replay(self, reference: str | None, parent_id: str) -> OperationResult | None:
        if reference is None or reference not in self.by_reference:
            return None
        existing = self.by_reference[reference]
        if existing.parent_transaction != parent_id:
            raise ReferenceConflict(f"reference {reference!r} was already used", transaction_id=existing.transaction_id)
        return OperationResult(record=existing, replayed=True)

    def _open_hold(self, target: TransactionRecord) -> Hold:
        if target.status is not Status.INFLIGHT:
            raise StateConflict(
                f"transaction {target.transaction_id} is {target.status.value}, not INFLIGHT",
                status=target.status.value,
            )
        hold, _ = self.holds[target.transaction_id]
        if hold.remaining_minor == 0:
            raise StateConflict(
                f"hold {target.transaction_id} is already fully committed or voided",
                committed_minor=hold.committed_minor,
                voided_minor=hold.voided_minor,
            )
        return hold

    def _commit(self, op: CommitHold) -> OperationResult:
        target = self._target(op.transaction_id)
        replay = self._explicit_replay(op.reference, target.transaction_id)
        if replay:
            return replay
        hold = self._open_hold(target)
        _, expires_at = self.holds[target.transaction_id]
        if expires_at is not None and expires_at <= self.now:
            self._void(VoidHold(target.transaction_id, reason="expired"))
            raise StateConflict(f"hold {target.transaction_id} expired at {expires_at.isoformat()} and was voided")
        amount = hold.remaining_minor if op.amount_minor is None else op.amount_minor
        if amount <= 0:
            raise InvalidRequest("commit amount must be greater than zero")
        if amount > hold.remaining_minor:
            raise HoldExceeded(
                f"commit of {amount} exceeds the {hold.remaining_minor} still held",
                remaining_minor=hold.remaining_minor,
            )
        if not hold.is_simple and amount != hold.amount_minor:
            raise InvalidRequest("a split hold can only be committed in full")
        child_id = self.new_id("txn")
        debits, credits = hold.legs_for(amount)
        lines = commit_hold(hold, amount, child_id, self.balances)
        record = replace(
            self._child(target, Status.APPLIED, amount, op.reference, debits, credits),
            transaction_id=child_id,
        )
        self._add_lines(lines, record.effective_date)
        self.writes.changed_holds[hold.transaction_id] = hold
        return self._record(record, is_commit=True)

    def _void(self, op: VoidHold) -> OperationResult:
        target = self._target(op.transaction_id)
        replay = self._explicit_replay(op.reference, target.transaction_id)
        if replay:
            return replay
        hold = self._open_hold(target)
        remaining = hold.remaining_minor
        child_id = self.new_id("txn")
        debits, credits = hold.legs_for(remaining)
        lines = void_hold(hold, child_id, self.balances)
        meta = {"void_reason": op.reason} if op.reason else None
        record = replace(
            self._child(target, Status.VOID, remaining, op.reference, debits, credits, meta),
            transaction_id=child_id,
        )
        self._add_lines(lines, record.effective_date)
        self.writes.changed_holds[hold.transaction_id] = hold
        return self._record(record, is_commit=False)

    def _refund(self, op: Refund) -> OperationResult:
        target = self._target(op.transaction_id)
        if is_entry_transaction(target):
            # An entry's ledger_entries row must learn of its undoing; linked accounts only move by reconciling.
            raise StateConflict("a schema entry is undone with POST /ledgers/{ledger_id}/entries/{ik}/reverse")
        if target.status is not Status.APPLIED:
            raise StateConflict(
                f"only APPLIED transactions can be refunded; {target.transaction_id} is {target.status.value}",
                status=target.status.value,
            )
        refund_reference = f"{target.reference}:refund"
        if refund_reference in self.by_reference:
            raise AlreadyRefunded(
                f"transaction {target.transaction_id} was already refunded",
                refund_transaction_id=self.by_reference[refund_reference].transaction_id,
            )
        debits, credits = target.debit_legs(), target.credit_legs()
        original = Posting(target.transaction_id, target.currency, debits, credits)
        # The refund debits the original destinations: overdraft only where those are internal
        # (`@...`) balances, which exist to go negative; a customer balance must cover it.
        new_sources_internal = all(is_internal_identifier(d.get("identifier", "")) for d in target.destinations or [])
        child_id = self.new_id("txn")
        posting = replace(
            reversal_of(original, child_id), allow_overdraft=new_sources_internal, overdraft_limit_minor=None
        )
        outcome = apply_posting(posting, self.balances)
        if outcome.status is Status.REJECTED:
            raise LedgerError(f"refund refused: {outcome.rejection_reason}")
        record = TransactionRecord(
            transaction_id=child_id,
            parent_transaction=target.transaction_id,
            reference=refund_reference,
            request_hash=target.request_hash,
            status=Status.APPLIED,
            currency=target.currency,
            amount_minor=target.amount_minor,
            precision=target.precision,
            created_at=self.now,
            effective_date=self.now,
            source=target.destination,
            destination=target.source,
            sources=_swap_documents(target.destinations),
            destinations=_swap_documents(target.sources),
            allow_overdraft=posting.allow_overdraft,
            description=f"Refund of {target.transaction_id}",
            meta_data={**target.meta_data, "refund_of": target.transaction_id},
        )
        self._add_lines(outcome.lines, record.effective_date)
        return self._record(record, is_commit=False)

    def _apply_scheduled(self, op: ApplyScheduled) -> OperationResult:
        target = self._target(op.transaction_id)
        child_reference = f"{target.reference}:scheduled"
        if child_reference in self.by_reference:
            return OperationResult(record=self.by_reference[child_reference], replayed=True)
        if target.status is not Status.SCHEDULED:
            raise StateConflict(f"transaction {target.transaction_id} is not SCHEDULED")
        child_id = self.new_id("txn")
        record = replace(
            target,
            transaction_id=child_id,
            parent_transaction=target.transaction_id,
            reference=child_reference,
            created_at=self.now,
            effective_date=self.now,
        )
        posting = Posting(
            transaction_id=child_id,
            currency=target.currency,
            debits=target.debit_legs(),
            credits=target.credit_legs(),
            inflight=target.inflight,
            allow_overdraft=target.allow_overdraft,
            overdraft_limit_minor=target.overdraft_limit_minor,
        )
        return self._post(record, posting, expires_at=target.inflight_expiry_date)

    # ---- writing ------------------------------------------------------------------------

    def _add_lines(self, lines: Sequence[EntryLine], effective_at: datetime) -> None:
        self.writes.lines.extend((line, effective_at) for line in lines)

    def _record(self, record: TransactionRecord, *, is_commit: bool) -> OperationResult:
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

    async def _flush(self) -> None:
        writes = self.writes
        await self.repository.insert_transactions(writes.records)
        await self.repository.insert_entries(writes.lines, self.now)
        await self.repository.save_balances(self.balances.values())
        await self.repository.insert_holds(writes.new_holds)
        # After the insert, so a hold created and acted on in the same batch is updated too.
        await self.repository.save_holds(list(writes.changed_holds.values()))
        await self.entries.flush(self.balances)
        await self._check_monitors()
        await self.repository.insert_outbox(writes.outbox)

    async def _check_monitors(self) -> None:
        touched = [balance_id for balance_id, state in self.balances.items() if state.touched]
        changed = crossings(await self.repository.monitors_for(touched), self.balances)
        await self.repository.set_monitor_states([(monitor.monitor_id, fired) for monitor, fired in changed])
        for monitor, fired in changed:
            if fired:
                state = self.balances[monitor.balance_id]
                payload = monitor_payload(
                    monitor_id=monitor.monitor_id,
                    balance_id=monitor.balance_id,
                    currency=state.currency,
                    field=monitor.field,
                    operator=monitor.operator,
                    value_minor=monitor.value_minor,
                    observed_value_minor=field_value(state, monitor.field),
                    occurred_at=self.now,
                )
                self.writes.outbox.append(
                    outbox_row(
                        "ledger.balance.monitor_triggered", monitor.balance_id, payload, monitor.monitor_id, self.now
                    )
                )


def _leg_documents(
    distributions: Sequence[Any] | None, legs: tuple[Leg, ...], single: str | None
) -> list[dict[str, Any]]:
    if distributions:
        return [
            {
                "identifier": item.identifier,
                "distribution": item.distribution,
                "balance_id": leg.identifier,
                "amount_minor": leg.amount_minor,
            }
            for item, leg in zip(distributions, legs, strict=True)
        ]
    return [
        {
            "identifier": single if len(legs) == 1 and single else leg.identifier,
            "balance_id": leg.identifier,
            "amount_minor": leg.amount_minor,
        }
        for leg in legs
    ]


def _swap_documents(documents: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [dict(item) for item in documents or []]
