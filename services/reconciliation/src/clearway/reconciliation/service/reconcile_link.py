"""What runs when something arrives on a link with `auto_match`, and on `POST /matching/runs`:
match (set-based), then post the link's matches to the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from clearway.reconciliation.domain.matches import Match
from clearway.reconciliation.service import card_settlements, matching, posting
from clearway.reconciliation.service.context import ReconciliationContext


@dataclass(frozen=True, slots=True)
class LinkRun:
    matches: list[Match]
    posted: int
    dry_run: bool
    entry_types: dict[str, list[str]]


async def reconcile_link(
    context: ReconciliationContext,
    link_id: str,
    *,
    dry_run: bool = False,
    actor: str = matching.AUTO_MATCHER,
    explain: bool = False,
) -> LinkRun:
    run = await matching.run_matching(context, link_id, dry_run=dry_run, actor=actor, explain=explain)
    if dry_run:
        return LinkRun(run.matches, 0, dry_run, run.entry_types)
    posted = await posting.post_pending(context, link_id=link_id)
    if not posted:
        await _split_settled_clearings(context, link_id)
        return LinkRun(run.matches, posted, dry_run, run.entry_types)
    # A reversal pairs only with a posted settlement: one that just posted may be what a waiting
    # reversal reverses, so match once more.
    again = await matching.run_matching(context, link_id, dry_run=False, actor=actor, explain=explain)
    posted += await posting.post_pending(context, link_id=link_id) if again.matches else 0
    await _split_settled_clearings(context, link_id)
    return LinkRun(run.matches + again.matches, posted, dry_run, {**run.entry_types, **again.entry_types})


async def _split_settled_clearings(context: ReconciliationContext, link_id: str) -> None:
    """A card settlement that just posted (here, or by the recovery pass racing this run) makes its
    clearings splittable: split them before answering, so the caller sees every effect of its
    arrival (a split the recovery pass is doing at the same time is replayed, not doubled)."""
    await card_settlements.post_ready_clearings(context, link_id=link_id)


async def after_arrival(context: ReconciliationContext, link_id: str | None) -> None:
    if link_id is None:
        return
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
    if link is not None and link.auto_match:
        await reconcile_link(context, link_id)
