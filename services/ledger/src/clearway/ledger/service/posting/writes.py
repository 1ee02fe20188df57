"""Last step of a batch (step 3, posting): hand the store everything the batch staged, once every
operation has run.

Transactions, entry lines, balances and outbox events go in one statement (one round trip, which
also reads the monitors of the touched balances); holds, schema entries and fired monitors only
when the batch has any.
"""

from __future__ import annotations

from clearway.ledger.domain.monitors import Monitor, crossings, field_value
from clearway.ledger.service.events import monitor_payload, outbox_row
from clearway.ledger.service.posting.state import BatchState


async def flush_batch(batch: BatchState) -> None:
    writes = batch.writes
    touched = [state for state in batch.balances.values() if state.touched]
    monitors = await batch.store.write_postings(writes.records, writes.lines, batch.now, touched, writes.outbox)
    await batch.store.insert_holds(writes.new_holds)
    # After the insert, so a hold created and acted on in the same batch is updated too.
    await batch.store.save_holds(list(writes.changed_holds.values()))
    await batch.entries.flush(batch.balances)
    await _check_monitors(batch, monitors)


async def _check_monitors(batch: BatchState, monitors: list[Monitor]) -> None:
    """Monitors whose condition changed: their new states, and an event for each that fired (after
    the batch's transaction events, as before)."""
    changed = crossings(monitors, batch.balances)
    if not changed:
        return
    await batch.store.set_monitor_states([(monitor.monitor_id, fired) for monitor, fired in changed])
    fired_rows = []
    for monitor, fired in changed:
        if fired:
            state = batch.balances[monitor.balance_id]
            payload = monitor_payload(
                monitor_id=monitor.monitor_id,
                balance_id=monitor.balance_id,
                currency=state.currency,
                field=monitor.field,
                operator=monitor.operator,
                value_minor=monitor.value_minor,
                observed_value_minor=field_value(state, monitor.field),
                occurred_at=batch.now,
            )
            fired_rows.append(
                outbox_row(
                    "ledger.balance.monitor_triggered", monitor.balance_id, payload, monitor.monitor_id, batch.now
                )
            )
    await batch.store.insert_outbox(fired_rows)
