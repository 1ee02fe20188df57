"""First step of a batch (step 3, posting): look up what the operations refer to, then lock it in
the fixed order, through the store.

References first (no locks), then the holds involved (by id), then internal balances and
entry accounts are got-or-created, and only then is every balance involved locked (by id).
"""

from __future__ import annotations

from collections.abc import Sequence

from clearway.ledger.domain.transactions import is_internal_identifier
from clearway.ledger.service.posting.operations import (
    ApplyScheduled,
    CommitHold,
    Operation,
    PostEntry,
    Transfer,
    VoidHold,
)
from clearway.ledger.service.posting.state import BatchState


async def load_batch(batch: BatchState, operations: Sequence[Operation]) -> None:
    references = [op.request.reference for op in operations if isinstance(op, Transfer)]
    references += [op.reference for op in operations if not isinstance(op, Transfer | ApplyScheduled) and op.reference]
    target_ids = [op.transaction_id for op in operations if not isinstance(op, Transfer | PostEntry)]
    batch.by_id = await batch.store.transactions_by_id(target_ids)
    references += [f"{record.reference}:refund" for record in batch.by_id.values()]
    references += [f"{record.reference}:scheduled" for record in batch.by_id.values()]
    batch.by_reference = await batch.store.transactions_by_reference(references)
    hold_ids = [op.transaction_id for op in operations if isinstance(op, CommitHold | VoidHold)]
    batch.holds = await batch.store.lock_holds(hold_ids)

    wanted_internal: set[tuple[str, str]] = set()
    balance_ids: set[str] = set()
    precisions: dict[str, int] = {}
    for op in operations:
        if isinstance(op, Transfer) and op.request.reference not in batch.by_reference:
            precisions[op.request.currency] = op.request.currency_precision
            for identifier in op.request.identifiers():
                if is_internal_identifier(identifier):
                    wanted_internal.add((identifier, op.request.currency))
                else:
                    balance_ids.add(identifier)
    for hold, _ in batch.holds.values():
        balance_ids.update(leg.identifier for leg in (*hold.debits, *hold.credits))
    for record in batch.by_id.values():
        balance_ids.update(leg.identifier for leg in (*record.debit_legs(), *record.credit_legs()))
    if wanted_internal:
        new_ids = [batch.new_id("bln") for _ in wanted_internal]
        batch.internal_ids = await batch.store.ensure_internal_balances(sorted(wanted_internal), precisions, new_ids)
        balance_ids.update(batch.internal_ids.values())
    # Entry accounts are got-or-created here, before any balance is locked (same lock order).
    new_entries = [op for op in operations if isinstance(op, PostEntry) and op.reference not in batch.by_reference]
    if new_entries:
        balance_ids.update(await batch.entries.load(new_entries))
    batch.balances, batch.owners = await batch.store.lock_owned_balances(balance_ids)
    await _load_replay_owners(batch, operations)
    # A batch that refunded or settled the same targets held these locks until it committed,
    # so its rows are visible only now: look again, or a lost race answers with a misleading
    # refusal ("insufficient funds", "already settled") instead of ALREADY_REFUNDED or a replay.
    settled = [f"{record.reference}:refund" for record in batch.by_id.values()]
    settled += [op.reference for op in operations if isinstance(op, CommitHold | VoidHold) and op.reference]
    if settled:
        batch.by_reference.update(await batch.store.transactions_by_reference(settled))


async def _load_replay_owners(batch: BatchState, operations: Sequence[Operation]) -> None:
    """A workspace replaying a reference must see the transaction it names, whose balances this
    batch did not lock: read their owners (one query, only when a workspace replays at all)."""
    replayed = [
        batch.by_reference[op.request.reference]
        for op in operations
        if isinstance(op, Transfer) and not op.tenant.is_platform and op.request.reference in batch.by_reference
    ]
    wanted = {leg.identifier for record in replayed for leg in (*record.debit_legs(), *record.credit_legs())}
    wanted -= batch.owners.keys()
    if wanted:
        batch.owners.update(await batch.store.balance_owners(wanted))
