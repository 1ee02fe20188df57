"""Posting matches to the ledger (seed 003's entries through `reconcile` and `entries`).

A match is committed before anything is posted; its entries go to the ledger in order, each with
an ik derived from the match id (a replay when already posted); then the match is marked posted
with `transfer.reconciled` per external transaction, in one transaction. A crash in between leaves
the match `matched` for the posting pass. The ledger refusing an entry marks the match `failed`
and raises a `posting_failed` break; both sides are open again for an operator to match by hand.
"""

from __future__ import annotations

from datetime import datetime

from clearway.contracts.events import TransferReconciled
from clearway.platform.ledger import LedgerRefusedError
from clearway.platform.logging import get_logger
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.domain.breaks import BreakKind, DetectedBreak
from clearway.reconciliation.domain.expectations import Expectation, clearing_of
from clearway.reconciliation.domain.matches import Match, MatchStatus, Strategy, batch_of, entries_for
from clearway.reconciliation.service import breaks, expectations
from clearway.reconciliation.service.context import ReconciliationContext
from clearway.reconciliation.service.ledger_posting import post_planned

logger = get_logger("clearway.reconciliation.posting")


async def post_match(context: ReconciliationContext, match: Match) -> MatchStatus:
    async with context.unit_of_work() as uow:
        link = await uow.links.get(match.link_id)
        transactions = await uow.external_transactions.get_many(match.external_transaction_ids)
        matched = await uow.expectations.get_many(match.expectation_ids)
        original = await uow.matches.get(match.reverses_match_id) if match.reverses_match_id else None
    assert link is not None
    try:
        for expectation in matched:  # the initiation phase comes first (a replay when already posted)
            await expectations.post_initiation(context, expectation)
        planned = entries_for(match, transactions, matched, original=original)
        for entry in planned:
            await post_planned(context, link.ledger_id, link.currency, entry)
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
        await _settled(uow, match, matched, now)
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


async def _settled(uow: SqlReconciliationUnitOfWork, match: Match, matched: list[Expectation], now: datetime) -> None:
    """What the settlement completes: a formed batch is settled; a card settlement's clearings may split."""
    if match.strategy is Strategy.ONE_TO_MANY and batch_of(match, matched) != match.id:
        await uow.batches.mark_settled(batch_of(match, matched), now)
    elif match.strategy is Strategy.CARD_SETTLEMENT:
        (settlement,) = matched
        amounts = [(clearing_of(item.account_path), item.amount_minor) for item in settlement.items]
        await uow.card_clearings.from_settlement_file(
            match.link_id, settlement.reference or settlement.id, amounts, now, settled=True
        )


async def _failed(context: ReconciliationContext, match: Match, failure: str) -> MatchStatus:
    async with context.unit_of_work() as uow:
        now = context.clock()
        await uow.matches.set_status(match.id, MatchStatus.FAILED, now, failure=failure)
        # Nothing it reconciles stays "reconciled" without its entries: both sides are open again,
        # and the break tells an operator why.
        # The transactions wait for an operator's manual match: an automatic rule would pick the same
        # pair on the next arrival and fail the same way.
        await uow.external_transactions.release(match.external_transaction_ids, now, held_for_review=True)
        if match.strategy is not Strategy.REVERSAL:
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
