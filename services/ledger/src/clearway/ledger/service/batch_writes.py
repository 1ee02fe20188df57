"""Last step of a batch: write everything it staged, once every operation has run."""

from __future__ import annotations

from clearway.ledger.domain.monitors import crossings, field_value
from clearway.ledger.service.batch_state import BatchState
from clearway.ledger.service.events import monitor_payload, outbox_row


async def flush_batch(batch: BatchState) -> None:
    writes = batch.writes
    await batch.repository.insert_transactions(writes.records)
    await batch.repository.insert_entries(writes.lines, batch.now)
    await batch.repository.save_balances(batch.balances.values())
    await batch.repository.insert_holds(writes.new_holds)
    # After the insert, so a hold created and acted on in the same batch is updated too.
    await batch.repository.save_holds(list(writes.changed_holds.values()))
    await batch.entries.flush(batch.balances)
    await _check_monitors(batch)
    await batch.repository.insert_outbox(writes.outbox)


async def _check_monitors(batch: BatchState) -> None:
    touched = [balance_id for balance_id, state in batch.balances.items() if state.touched]
    changed = crossings(await batch.repository.monitors_for(touched), batch.balances)
    await batch.repository.set_monitor_states([(monitor.monitor_id, fired) for monitor, fired in changed])
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
            batch.writes.outbox.append(
                outbox_row(
                    "ledger.balance.monitor_triggered", monitor.balance_id, payload, monitor.monitor_id, batch.now
                )
            )
