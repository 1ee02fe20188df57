"""Applying a refund of an APPLIED transaction (step 3, posting): a child that moves the same
amounts back, at most once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clearway.ledger.domain.errors import AlreadyRefunded, LedgerError, StateConflict
from clearway.ledger.domain.posting import Posting, Status, apply_posting, reversal_of
from clearway.ledger.domain.transactions import TransactionRecord, is_internal_identifier
from clearway.ledger.service.posting.entry_poster import is_entry_transaction
from clearway.ledger.service.posting.operations import OperationResult, Refund
from clearway.ledger.service.posting.state import BatchState


def apply_refund(batch: BatchState, op: Refund) -> OperationResult:
    target = batch.target(op.transaction_id, op.tenant)
    # A refund moves the original's money back: its debits are the original's credits.
    batch.check_movement(op.tenant, target.credit_legs(), target.debit_legs())
    if is_entry_transaction(target):
        # An entry's ledger_entries row must learn of its undoing; linked accounts only move by reconciling.
        raise StateConflict("a schema entry is undone with POST /ledgers/{ledger_id}/entries/{ik}/reverse")
    if target.status is not Status.APPLIED:
        raise StateConflict(
            f"only APPLIED transactions can be refunded; {target.transaction_id} is {target.status.value}",
            status=target.status.value,
        )
    refund_reference = f"{target.reference}:refund"
    if refund_reference in batch.by_reference:
        raise AlreadyRefunded(
            f"transaction {target.transaction_id} was already refunded",
            refund_transaction_id=batch.by_reference[refund_reference].transaction_id,
        )
    debits, credits = target.debit_legs(), target.credit_legs()
    original = Posting(target.transaction_id, target.currency, debits, credits)
    # The refund debits the original destinations: overdraft only where those are internal
    # (`@...`) balances, which exist to go negative; a customer balance must cover it.
    new_sources_internal = all(is_internal_identifier(d.get("identifier", "")) for d in target.destinations or [])
    child_id = batch.new_id("txn")
    posting = replace(reversal_of(original, child_id), allow_overdraft=new_sources_internal, overdraft_limit_minor=None)
    outcome = apply_posting(posting, batch.balances)
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
        created_at=batch.now,
        effective_date=batch.now,
        source=target.destination,
        destination=target.source,
        sources=_swap_documents(target.destinations),
        destinations=_swap_documents(target.sources),
        allow_overdraft=posting.allow_overdraft,
        description=f"Refund of {target.transaction_id}",
        meta_data={**target.meta_data, "refund_of": target.transaction_id},
    )
    batch.add_lines(outcome.lines, record.effective_date)
    return batch.record(record, is_commit=False)


def _swap_documents(documents: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [dict(item) for item in documents or []]
