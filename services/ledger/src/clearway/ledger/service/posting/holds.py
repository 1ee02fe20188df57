"""Applying the settlement of an inflight hold (step 3, posting): commit all or part of it, or void
all or part of what is still held.

Either writes a child transaction of the held one; an explicit reference already used by a
child of the same transaction answers as a replay.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clearway.ledger.domain.distribution import Leg
from clearway.ledger.domain.errors import HoldExceeded, InvalidRequest, ReferenceConflict, StateConflict
from clearway.ledger.domain.posting import Hold, Status, commit_hold, void_hold
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.posting.operations import CommitHold, OperationResult, VoidHold
from clearway.ledger.service.posting.state import BatchState
from clearway.ledger.service.posting.transfers import leg_documents


def apply_commit(batch: BatchState, op: CommitHold) -> OperationResult:
    target = batch.target(op.transaction_id, op.tenant)
    batch.check_movement(op.tenant, target.debit_legs(), target.credit_legs())
    replay = _explicit_replay(batch, op.reference, target.transaction_id)
    if replay:
        return replay
    hold = _open_hold(batch, target)
    _, expires_at = batch.holds[target.transaction_id]
    if expires_at is not None and expires_at <= batch.now:
        apply_void(batch, VoidHold(target.transaction_id, reason="expired"))
        raise StateConflict(f"hold {target.transaction_id} expired at {expires_at.isoformat()} and was voided")
    amount = _part(hold, op.amount_minor, "commit")
    child_id = batch.new_id("txn")
    debits, credits = hold.legs_for(amount)
    lines = commit_hold(hold, amount, child_id, batch.balances)
    record = _child(batch, target, child_id, Status.APPLIED, amount, op.reference, debits, credits)
    batch.add_lines(lines, record.effective_date)
    batch.writes.changed_holds[hold.transaction_id] = hold
    return batch.record(record, is_commit=True)


def apply_void(batch: BatchState, op: VoidHold) -> OperationResult:
    target = batch.target(op.transaction_id, op.tenant)
    batch.check_movement(op.tenant, target.debit_legs(), target.credit_legs())
    replay = _explicit_replay(batch, op.reference, target.transaction_id)
    if replay:
        return replay
    hold = _open_hold(batch, target)
    remaining = _part(hold, op.amount_minor, "void")
    child_id = batch.new_id("txn")
    debits, credits = hold.legs_for(remaining)
    lines = void_hold(hold, child_id, batch.balances, remaining)
    meta = {"void_reason": op.reason} if op.reason else None
    record = _child(batch, target, child_id, Status.VOID, remaining, op.reference, debits, credits, meta)
    batch.add_lines(lines, record.effective_date)
    batch.writes.changed_holds[hold.transaction_id] = hold
    return batch.record(record, is_commit=False)


def _part(hold: Hold, amount_minor: int | None, action: str) -> int:
    """What a commit or void settles: `amount_minor` of what is still held, or all of it."""
    amount = hold.remaining_minor if amount_minor is None else amount_minor
    if amount <= 0:
        raise InvalidRequest(f"{action} amount must be greater than zero")
    if amount > hold.remaining_minor:
        raise HoldExceeded(
            f"{action} of {amount} exceeds the {hold.remaining_minor} still held",
            remaining_minor=hold.remaining_minor,
        )
    if not hold.is_simple and amount != hold.amount_minor:
        raise InvalidRequest(f"a split hold can only be {'committed' if action == 'commit' else 'voided'} in full")
    return amount


def _explicit_replay(batch: BatchState, reference: str | None, parent_id: str) -> OperationResult | None:
    if reference is None or reference not in batch.by_reference:
        return None
    existing = batch.by_reference[reference]
    if existing.parent_transaction != parent_id:
        raise ReferenceConflict(f"reference {reference!r} was already used", transaction_id=existing.transaction_id)
    return OperationResult(record=existing, replayed=True)


def _open_hold(batch: BatchState, target: TransactionRecord) -> Hold:
    if target.status is not Status.INFLIGHT:
        raise StateConflict(
            f"transaction {target.transaction_id} is {target.status.value}, not INFLIGHT",
            status=target.status.value,
        )
    hold, _ = batch.holds[target.transaction_id]
    if hold.remaining_minor == 0:
        raise StateConflict(
            f"hold {target.transaction_id} is already fully committed or voided",
            committed_minor=hold.committed_minor,
            voided_minor=hold.voided_minor,
        )
    return hold


def _child(
    batch: BatchState,
    parent: TransactionRecord,
    child_id: str,
    status: Status,
    amount_minor: int,
    reference: str | None,
    debits: tuple[Leg, ...],
    credits: tuple[Leg, ...],
    meta: dict[str, Any] | None = None,
) -> TransactionRecord:
    return replace(
        parent,
        transaction_id=child_id,
        parent_transaction=parent.transaction_id,
        reference=reference or batch.new_id("ref"),
        status=status,
        amount_minor=amount_minor,
        created_at=batch.now,
        effective_date=batch.now,
        sources=leg_documents(None, debits, parent.source),
        destinations=leg_documents(None, credits, parent.destination),
        inflight=False,
        meta_data={**parent.meta_data, **(meta or {})},
        rejection_reason=None,
    )
