"""Applying the operations that post new money movements: transfers, scheduled transfers falling
due, schema entries (step 3, posting).

Each is applied in memory to the balances the batch locked, and staged on the `BatchState`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from clearway.ledger.domain.distribution import Leg, split_amount
from clearway.ledger.domain.entry_rules import IkReused
from clearway.ledger.domain.errors import InvalidRequest, NotFound, ReferenceConflict, StateConflict
from clearway.ledger.domain.posting import Hold, Outcome, Posting, Status, apply_posting
from clearway.ledger.domain.tenancy import PLATFORM, Tenant
from clearway.ledger.domain.transactions import TransactionRecord, TransferRequest, is_internal_identifier
from clearway.ledger.service.posting.operations import ApplyScheduled, OperationResult, PostEntry
from clearway.ledger.service.posting.state import BatchState


def apply_post_entry(batch: BatchState, op: PostEntry) -> OperationResult:
    existing = batch.by_reference.get(op.reference)
    if existing is not None:
        if existing.request_hash != op.request_hash:
            raise IkReused(
                f"ik {op.ik!r} was already used for a different entry on ledger {op.ledger_id}",
                transaction_id=existing.transaction_id,
            )
        return OperationResult(record=existing, replayed=True)
    posted = batch.entries.post(op, batch.balances, batch.new_id("txn"))
    batch.add_lines(posted.lines, posted.record.effective_date)
    batch.writes.outbox.extend(posted.outbox)
    return batch.record(posted.record, is_commit=False)


def apply_transfer(batch: BatchState, request: TransferRequest, tenant: Tenant = PLATFORM) -> OperationResult:
    existing = batch.by_reference.get(request.reference)
    if existing is not None:
        if not tenant.is_platform and not batch.sees(tenant, existing):
            # References are unique across the service: say it is taken, never by what.
            raise ReferenceConflict(f"reference {request.reference!r} is already in use")
        if existing.request_hash != request.fingerprint():
            raise ReferenceConflict(
                f"reference {request.reference!r} was already used for a different transaction",
                transaction_id=existing.transaction_id,
            )
        return OperationResult(record=existing, replayed=True)
    debits, credits = _legs(batch, request)
    batch.check_movement(tenant, debits, credits)
    if {leg.identifier for leg in debits} & {leg.identifier for leg in credits}:
        raise InvalidRequest("source and destination must be different balances")
    transaction_id = batch.new_id("txn")
    if request.scheduled_for is not None and request.scheduled_for > batch.now:
        scheduled = _transfer_record(batch, request, transaction_id, debits, credits, Status.SCHEDULED, None)
        return batch.record(scheduled, is_commit=False)
    posting = Posting(
        transaction_id=transaction_id,
        currency=request.currency,
        debits=debits,
        credits=credits,
        inflight=request.inflight,
        allow_overdraft=request.allow_overdraft,
        overdraft_limit_minor=request.overdraft_limit_minor,
    )
    outcome = apply_posting(posting, batch.balances)
    # The record is made once, with its outcome: `replace` on a frozen record of 22 fields cost more
    # than building it (the posting step's profile, issue 13).
    record = _transfer_record(batch, request, transaction_id, debits, credits, outcome.status, outcome.rejection_reason)
    return _stage(batch, record, posting, outcome, expires_at=request.inflight_expiry_date)


def _transfer_record(
    batch: BatchState,
    request: TransferRequest,
    transaction_id: str,
    debits: tuple[Leg, ...],
    credits: tuple[Leg, ...],
    status: Status,
    rejection_reason: str | None,
) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=transaction_id,
        reference=request.reference,
        status=status,
        currency=request.currency,
        amount_minor=request.amount_minor,
        precision=request.currency_precision,
        request_hash=request.fingerprint(),
        created_at=batch.now,
        effective_date=request.effective_date or batch.now,
        source=request.source,
        destination=request.destination,
        sources=leg_documents(request.sources or None, debits, request.source),
        destinations=leg_documents(request.destinations or None, credits, request.destination),
        allow_overdraft=request.allow_overdraft,
        overdraft_limit_minor=request.overdraft_limit_minor,
        inflight=request.inflight,
        inflight_expiry_date=request.inflight_expiry_date,
        scheduled_for=request.scheduled_for,
        description=request.description,
        meta_data=_rejection_noted(request.meta_data, rejection_reason),
        rejection_reason=rejection_reason,
    )


def _rejection_noted(meta_data: dict[str, Any], rejection_reason: str | None) -> dict[str, Any]:
    """A refused transaction's reason, also in its meta_data, where Blnk's clients read it."""
    return {**meta_data, "blnk_rejection_reason": rejection_reason} if rejection_reason else meta_data


def apply_scheduled(batch: BatchState, op: ApplyScheduled) -> OperationResult:
    target = batch.target(op.transaction_id)
    child_reference = f"{target.reference}:scheduled"
    if child_reference in batch.by_reference:
        return OperationResult(record=batch.by_reference[child_reference], replayed=True)
    if target.status is not Status.SCHEDULED:
        raise StateConflict(f"transaction {target.transaction_id} is not SCHEDULED")
    child_id = batch.new_id("txn")
    record = replace(
        target,
        transaction_id=child_id,
        parent_transaction=target.transaction_id,
        reference=child_reference,
        created_at=batch.now,
        effective_date=batch.now,
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
    return _post(batch, record, posting, expires_at=target.inflight_expiry_date)


def _post(
    batch: BatchState, record: TransactionRecord, posting: Posting, *, expires_at: datetime | None
) -> OperationResult:
    outcome = apply_posting(posting, batch.balances)
    record = replace(
        record,
        status=outcome.status,
        rejection_reason=outcome.rejection_reason,
        meta_data=_rejection_noted(record.meta_data, outcome.rejection_reason),
    )
    return _stage(batch, record, posting, outcome, expires_at=expires_at)


def _stage(
    batch: BatchState, record: TransactionRecord, posting: Posting, outcome: Outcome, *, expires_at: datetime | None
) -> OperationResult:
    """Stage a posted record: its lines, its hold when it is one, its event."""
    batch.add_lines(outcome.lines, record.effective_date)
    if outcome.status is Status.INFLIGHT:
        hold = Hold(
            transaction_id=record.transaction_id,
            currency=posting.currency,
            debits=posting.debits,
            credits=posting.credits,
            amount_minor=posting.amount_minor,
        )
        batch.holds[hold.transaction_id] = (hold, expires_at)
        batch.writes.new_holds.append((hold, expires_at))
    return batch.record(record, is_commit=False)


def _legs(batch: BatchState, request: TransferRequest) -> tuple[tuple[Leg, ...], tuple[Leg, ...]]:
    if request.debit_legs:
        debits, credits = request.debit_legs, request.credit_legs
    else:
        debits = _side(request.source, request.sources, request)
        credits = _side(request.destination, request.destinations, request)
    resolved = (
        tuple(Leg(_balance_id(batch, leg.identifier, request.currency), leg.amount_minor) for leg in debits),
        tuple(Leg(_balance_id(batch, leg.identifier, request.currency), leg.amount_minor) for leg in credits),
    )
    return resolved


def _side(single: str | None, distributions: Sequence[Any], request: TransferRequest) -> tuple[Leg, ...]:
    if distributions:
        return tuple(split_amount(request.amount_minor, list(distributions), request.currency_precision))
    if not single:
        raise InvalidRequest("a transaction needs a source (or sources) and a destination (or destinations)")
    return (Leg(single, request.amount_minor),)


def _balance_id(batch: BatchState, identifier: str, currency: str) -> str:
    balance_id = batch.internal_ids.get((identifier, currency)) if is_internal_identifier(identifier) else identifier
    if balance_id is None or balance_id not in batch.balances:
        raise NotFound(f"balance {identifier} not found", balance_id=identifier)
    return balance_id


def leg_documents(
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
