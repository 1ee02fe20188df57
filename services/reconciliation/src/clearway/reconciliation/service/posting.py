"""Posting matches to the ledger (seed 003's entries through `reconcile` and `entries`).

A match is committed before anything is posted; its entries go to the ledger in order, each with
an ik derived from the match id (a replay when already posted); then the match is marked posted
with `transfer.reconciled` per external transaction, in one transaction. A crash in between leaves
the match `matched` for the posting pass. The ledger refusing an entry marks the match `failed`
and raises a `posting_failed` break; both sides are open again for an operator to match by hand.
"""

from __future__ import annotations

from clearway.contracts.events import TransferReconciled
from clearway.platform.ledger import LedgerRefusedError
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.breaks import BreakKind, DetectedBreak
from clearway.reconciliation.domain.matches import Match, MatchStatus, PlannedEntry, entries_for
from clearway.reconciliation.service import breaks, expectations
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.posting")


async def post_match(context: ReconciliationContext, match: Match) -> MatchStatus:
    async with context.unit_of_work() as uow:
        link = await uow.links.get(match.link_id)
        transactions = await uow.external_transactions.get_many(match.external_transaction_ids)
        matched = await uow.expectations.get_many(match.expectation_ids)
    assert link is not None
    try:
        for expectation in matched:  # the initiation phase comes first (a replay when already posted)
            await expectations.post_initiation(context, expectation)
        planned = entries_for(match, transactions, matched)
        for entry in planned:
            await _post(context, link.ledger_id, link.currency, entry)
    except LedgerRefusedError as error:
        return await _failed(context, match, f"{error.code}: {error.detail}"[:500])
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.matches.get(match.id, for_update=True)
        assert current is not None
        if current.status is not MatchStatus.MATCHED:
            return current.status
        iks = [entry.ik for entry in planned]
        await uow.matches.set_status(match.id, MatchStatus.POSTED, now, entry_iks=iks)
        sources = [f"{e.source}:{e.source_id}" for e in matched if e.source_id]
        for transaction in transactions:
            await uow.events.add(
                TransferReconciled(
                    external_transaction_id=transaction.id,
                    link_id=link.id,
                    external_id=transaction.external_id,
                    match_id=match.id,
                    direction=transaction.direction,
                    amount_minor=transaction.amount_minor,
                    currency=transaction.currency,
                    reference=transaction.reference,
                    ledger_id=link.ledger_id,
                    entry_iks=iks,
                    expectation_ids=list(match.expectation_ids),
                    expectation_sources=sources,
                    reconciled_at=now,
                )
            )
        await uow.commit()
    logger.info("match posted", match_id=match.id, strategy=match.strategy.value, entries=len(planned))
    return MatchStatus.POSTED


async def _post(context: ReconciliationContext, ledger_id: str, currency: str, entry: PlannedEntry) -> None:
    try:
        if entry.external_transaction is not None:
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


async def _failed(context: ReconciliationContext, match: Match, failure: str) -> MatchStatus:
    async with context.unit_of_work() as uow:
        now = context.clock()
        await uow.matches.set_status(match.id, MatchStatus.FAILED, now, failure=failure)
        # Nothing it reconciles stays "reconciled" without its entries: both sides are open again,
        # and the break tells an operator why (a rule will not pick the same pair blindly: see below).
        await uow.external_transactions.release(match.external_transaction_ids, now)
        await uow.expectations.reopen(match.expectation_ids, now)
        await breaks.raise_break(
            uow,
            context,
            DetectedBreak(
                BreakKind.POSTING_FAILED,
                subject=match.id,
                link_id=match.link_id,
                detail={
                    "match_id": match.id,
                    "external_transaction_ids": list(match.external_transaction_ids),
                    "expectation_ids": list(match.expectation_ids),
                    "ledger_refusal": failure,
                },
            ),
        )
        await uow.commit()
    logger.warning("match refused by the ledger", match_id=match.id, failure=failure)
    return MatchStatus.FAILED


async def post_pending(context: ReconciliationContext, *, link_id: str | None = None) -> int:
    """Post every match still `matched` (one bounded batch); -> how many were posted."""
    async with context.unit_of_work() as uow:
        pending = await uow.matches.unposted(context.policy.posting_batch_size_max, link_id=link_id)
    posted = 0
    for match in pending:
        posted += await post_match(context, match) is MatchStatus.POSTED
    return posted
