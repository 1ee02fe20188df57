"""One planned entry to the ledger: `reconcile`, a reversal, or a plain entry, safe to repeat."""

from __future__ import annotations

from clearway.platform.ledger import LedgerRefusedError
from clearway.reconciliation.domain.matches import PlannedEntry
from clearway.reconciliation.service.context import ReconciliationContext


async def post_planned(context: ReconciliationContext, ledger_id: str, currency: str, entry: PlannedEntry) -> None:
    try:
        if entry.reverses_ik is not None:
            await context.ledger.reverse_entry(ledger_id, entry.reverses_ik)  # once; again is a replay
        elif entry.external_transaction is not None:
            await context.ledger.reconcile(
                ledger_id,
                type=entry.type,
                ik=entry.ik,
                parameters=entry.parameters,
                external_transaction=entry.external_transaction,
                currency=currency,
            )
        else:
            await context.ledger.post_entry(
                ledger_id, type=entry.type, ik=entry.ik, parameters=entry.parameters, currency=currency
            )
    except LedgerRefusedError:
        # Two posters of one match (a request and the recovery pass) can race: the ledger applies
        # the first and may judge the second on its own (a clearing account already at zero). If
        # the entry under our ik exists, it was posted; only a refusal with no entry is a failure.
        if await context.ledger.get_entry(ledger_id, entry.ik) is None:
            raise
