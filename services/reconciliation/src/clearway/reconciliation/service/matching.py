"""Matching: pair a link's unreconciled external transactions with its open expectations.

Rules in order, each a set-based query in PostgreSQL (adapters/matches_repository.py):
  0. reversal: the bank reversing a posted settlement (the other direction, same amount, the same
     reference or `reversal:<it>`): seed 003's opposite-amount entries (domain/matches.py);
  1. reference: the same trace id or payment reference, amount, currency and direction (1:1, or
     one bulk receipt against an expectation with items: seed 003's split_bulk_payment);
  2. reference group: one transaction whose reference several open expectations share, their
     amounts adding up to it (a bulk receipt for several workflows; a batch settling several payouts);
  3. amount, currency and direction within the link's date window;
  4. single-purpose route: on a link for a virtual account or a paybill number, inbound money none of
     the above explained is the route account's (`reconcile_payment` to it), one expectation each.
A run holds the link's advisory lock, records its matches and marks both sides in one transaction;
posting to the ledger follows (`posting.post_pending`). A dry run does the same and rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.reconciliation.adapters.matches_repository import Candidate
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.expectations import (
    EXPECTATION_ID_PREFIX,
    ROUTE_SOURCE,
    Expectation,
    ExpectationStatus,
)
from clearway.reconciliation.domain.external_transactions import ReconStatus
from clearway.reconciliation.domain.links import Link
from clearway.reconciliation.domain.matches import MATCH_ID_PREFIX, Match, MatchStatus, Rule, Strategy, entries_for
from clearway.reconciliation.service import audit
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.matching")
AUTO_MATCHER = "system:auto-match"


EXPLAINED_MATCHES_MAX = 1_000


@dataclass(frozen=True, slots=True)
class RunResult:
    link_id: str
    matches: list[Match]
    dry_run: bool
    # match id -> the entry types it posts (or would post), for the first EXPLAINED_MATCHES_MAX.
    entry_types: dict[str, list[str]]


def _match_of(candidate: Candidate, link_id: str, actor: str, now: datetime, reason: str | None = None) -> Match:
    return Match(
        id=new_id(MATCH_ID_PREFIX),
        link_id=link_id,
        strategy=candidate.strategy,
        rule=candidate.rule,
        external_transaction_ids=candidate.transaction_ids,
        expectation_ids=candidate.expectation_ids,
        status=MatchStatus.MATCHED,
        created_by=actor,
        reason=reason,
        entry_iks=(),
        posted_at=None,
        failure=None,
        created_at=now,
        updated_at=now,
        reverses_match_id=candidate.reverses_match_id,
    )


async def _record(uow: SqlReconciliationUnitOfWork, matches: Sequence[Match], now: datetime) -> None:
    """Both sides of every match marked in two set-based statements, however many matches."""
    await uow.matches.add_many(matches)
    await uow.external_transactions.mark_reconciled_many(
        [(transaction_id, match.id) for match in matches for transaction_id in match.external_transaction_ids], now
    )
    # A reversal names the expectations whose settlement it undoes; they stay with their own match.
    await uow.expectations.mark_matched_many(
        [
            (expectation_id, match.id)
            for match in matches
            if match.strategy is not Strategy.REVERSAL
            for expectation_id in match.expectation_ids
        ],
        now,
    )


async def _routed(uow: SqlReconciliationUnitOfWork, link: Link, now: datetime) -> list[Candidate]:
    if link.route_account_path is None:
        return []
    return await uow.matches.candidates_by_route(
        link.id,
        link.route_account_path,
        source=ROUTE_SOURCE,
        new_ids=lambda count: [new_id(EXPECTATION_ID_PREFIX) for _ in range(count)],
        now=now,
    )


async def run_matching(
    context: ReconciliationContext, link_id: str, *, dry_run: bool, actor: str = AUTO_MATCHER, explain: bool = False
) -> RunResult:
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
        if link is None:
            raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
        await uow.matches.lock_link(link_id)
        now = context.clock()
        found: list[Match] = []
        # Each rule sees only what the earlier ones left: their matches are recorded (in this
        # transaction) before the next query runs, dry run or not.
        for rule in (
            uow.matches.candidates_for_reversal(link_id),
            uow.matches.candidates_by_reference(link_id),
            uow.matches.candidates_by_reference_group(link_id),
            uow.matches.candidates_by_amount_and_date(link_id, link.date_window_days),
            _routed(uow, link, now),
        ):
            matches = [_match_of(candidate, link_id, actor, now) for candidate in await rule]
            await _record(uow, matches, now)
            found.extend(matches)
        # Read before a dry run rolls the rows back: what each match posts, for the operator.
        entry_types = await _explained(uow, found[:EXPLAINED_MATCHES_MAX]) if explain else {}
        if dry_run:
            await uow.rollback()
        else:
            await uow.commit()
    if found:
        logger.info("matching run", link_id=link_id, matches=len(found), dry_run=dry_run)
    return RunResult(link_id, found, dry_run, entry_types)


async def _explained(uow: SqlReconciliationUnitOfWork, matches: Sequence[Match]) -> dict[str, list[str]]:
    explained = {}
    for match in matches:
        transactions = await uow.external_transactions.get_many(match.external_transaction_ids)
        expectations = await uow.expectations.get_many(match.expectation_ids)
        original = await uow.matches.get(match.reverses_match_id) if match.reverses_match_id else None
        planned = entries_for(match, transactions, expectations, original=original)
        explained[match.id] = [entry.type for entry in planned]
    return explained


async def manual_match(
    context: ReconciliationContext,
    *,
    transaction_ids: Sequence[str],
    expectation_ids: Sequence[str],
    actor: str,
    reason: str,
) -> Match:
    """An operator pairs what the rules could not; the amounts must agree, as the ledger requires."""
    async with context.unit_of_work() as uow:
        transactions = await uow.external_transactions.get_many(transaction_ids, for_update=True)
        expectations = await uow.expectations.get_many(expectation_ids, for_update=True)
        if len(transactions) != len(set(transaction_ids)) or len(expectations) != len(set(expectation_ids)):
            raise NotFoundError("Some of the named transactions or expectations do not exist.", code="NOT_FOUND")
        if len(transactions) != 1:
            raise InvalidRequestError("A match reconciles exactly one external transaction.", code="ONE_TRANSACTION")
        (transaction,) = transactions
        if transaction.status is not ReconStatus.UNRECONCILED or any(
            e.status is not ExpectationStatus.OPEN for e in expectations
        ):
            raise ConflictError("The transaction is reconciled or an expectation is not open.", code="ALREADY_MATCHED")
        if {e.link_id for e in expectations} != {transaction.link_id}:
            raise InvalidRequestError("Both sides must be on the same link.", code="LINK_MISMATCH")
        if any(e.direction != transaction.direction or e.currency != transaction.currency for e in expectations):
            raise InvalidRequestError("Direction and currency must agree.", code="DIRECTION_OR_CURRENCY_MISMATCH")
        if sum(e.amount_minor for e in expectations) != transaction.amount_minor:
            raise InvalidRequestError(
                "The expectations must add up to the transaction's amount.",
                code="AMOUNT_MISMATCH",
                transaction_minor=transaction.amount_minor,
                expected_minor=sum(e.amount_minor for e in expectations),
            )
        await _whole_batches_only(uow, expectations)
        if len(expectations) == 1 and expectations[0].is_card_settlement:
            strategy = Strategy.CARD_SETTLEMENT
        elif len(expectations) == 1:
            strategy = Strategy.BULK_SPLIT if expectations[0].items else Strategy.ONE_TO_ONE
        else:
            strategy = Strategy.MANY_TO_ONE if transaction.direction == "inbound" else Strategy.ONE_TO_MANY
        now = context.clock()
        assert transaction.link_id is not None
        candidate = Candidate((transaction.id,), tuple(e.id for e in expectations), strategy, Rule.MANUAL)
        match = _match_of(candidate, transaction.link_id, actor, now, reason)
        await _record(uow, [match], now)
        await audit.record(
            uow, entity_type="match", entity_id=match.id, action="matched", actor=actor, at=now, reason=reason
        )
        await uow.commit()
    logger.info("manual match", match_id=match.id, by=actor)
    return match


async def _whole_batches_only(uow: SqlReconciliationUnitOfWork, expectations: Sequence[Expectation]) -> None:
    """A payment in a formed batch settles with the batch: all its open members, or none of them."""
    batches = {e.batch_id for e in expectations}
    if batches == {None}:
        return
    members = await uow.expectations.in_batch(next(b for b in batches if b is not None))
    open_members = {m.id for m in members if m.status is ExpectationStatus.OPEN}
    if len(batches) != 1 or open_members != {e.id for e in expectations}:
        raise InvalidRequestError(
            "A payment in a batch settles with its batch: name all of the batch's open payments, "
            "or cancel the payment first.",
            code="EXPECTATION_IN_BATCH",
        )


async def unmatch(context: ReconciliationContext, match_id: str, *, actor: str, reason: str) -> Match:
    """Undo a match whose entries are not posted; a posted one is undone by reconciling a reversal."""
    async with context.unit_of_work() as uow:
        match = await uow.matches.get(match_id, for_update=True)
        if match is None:
            raise NotFoundError(f"No match {match_id}.", code="MATCH_NOT_FOUND")
        if match.status is MatchStatus.POSTED:
            raise ConflictError(
                "Its ledger entries are posted; reconcile the bank's reversal instead (seed 003).",
                code="MATCH_ALREADY_POSTED",
            )
        if match.status is MatchStatus.UNMATCHED:
            return match
        now = context.clock()
        await uow.matches.set_status(match_id, MatchStatus.UNMATCHED, now)
        await uow.external_transactions.release(match.external_transaction_ids, now)
        if match.strategy is not Strategy.REVERSAL:
            await uow.expectations.reopen(match.expectation_ids, now)
        await audit.record(
            uow, entity_type="match", entity_id=match_id, action="unmatched", actor=actor, at=now, reason=reason
        )
        undone = await uow.matches.get(match_id)
        await uow.commit()
    assert undone is not None
    return undone


async def get_match(context: ReconciliationContext, match_id: str) -> tuple[Match, list[dict[str, object]]]:
    async with context.unit_of_work() as uow:
        match = await uow.matches.get(match_id)
        if match is None:
            raise NotFoundError(f"No match {match_id}.", code="MATCH_NOT_FOUND")
        return match, list(await uow.audit.for_entity("match", match_id))


async def list_matches(
    context: ReconciliationContext, *, link_id: str | None, starting_after: str | None, limit: int
) -> Sequence[Match]:
    async with context.unit_of_work() as uow:
        return await uow.matches.list(link_id=link_id, starting_after=starting_after, limit=limit)
