"""Links reconciliation matched: `transfer.reconciled` names the funding invoices a settled transfer
pays (matched by reference, by amount and date when the payer's reference was wrong, or by an
operator), and funding links the transfer's deposit to each through link-deposit's own claim
(`linking.claim_transfer`), so the funding then goes through the same ledger steps.

What each named funding comes to:
- `linked`: claimed here; the caller drives the ledger steps once the claim has committed;
- `already_linked`: the deposit is that funding's already (a person, the automatic link, a
  re-match): nothing to do;
- `pending`: funding has not recorded the deposit yet (`transfer.created` is another topic, so
  nothing orders the two). The link is stored, in the transaction that records the event, and the
  recovery loop applies it once the deposit is there (`apply_pending_link`). Raising for a
  redelivery instead would wait only as long as the consumer's few retries, then dead-letter a
  link that was merely early, which is exactly when funding's transfer consumer lags;
- `skipped`: anything else (the deposit linked to another funding, a funding cancelled, expired
  or paid, an amount that is not the invoice total, an unknown funding). A retry would get the
  same answer, so it is logged with the ids and left to reconciliation, which raises a break for
  what the services disagree on, and to an operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from clearway.funding.domain.deposits import LinkReconciledTransfer, PendingLink
from clearway.funding.domain.errors import ConflictError, FundingError, NotFoundError
from clearway.funding.service import linking
from clearway.funding.service.context import Clock, FundingContext, utc_now
from clearway.funding.service.ports import FundingUnitOfWork

logger = logging.getLogger(__name__)

RECONCILIATION_ACTOR = "reconciliation"


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    PENDING = "pending"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ReconciledLinks:
    duplicate_event: bool = False
    # (funding id, outcome) for each funding the event names, in its order.
    outcomes: tuple[tuple[str, LinkOutcome], ...] = ()

    @property
    def linked_funding_ids(self) -> tuple[str, ...]:
        """The fundings claimed here, whose ledger steps the caller drives after commit."""
        return tuple(funding_id for funding_id, outcome in self.outcomes if outcome is LinkOutcome.LINKED)


async def link_reconciled(
    uow: FundingUnitOfWork,
    command: LinkReconciledTransfer,
    *,
    consumer: str,
    event_id: str,
    topic: str,
    clock: Clock = utc_now,
) -> ReconciledLinks:
    """The inbox row, the claims and the pending links commit together: a redelivery has no
    second effect, and a crash leaves all of it or none."""
    async with uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            logger.debug("transfer.reconciled %s already handled", event_id)
            return ReconciledLinks(duplicate_event=True)
        outcomes: list[tuple[str, LinkOutcome]] = []
        for funding_id in command.funding_ids:
            outcomes.append((funding_id, await _link(uow, funding_id, command.transfer_id, command.match_id, clock)))
        await uow.commit()
    return ReconciledLinks(outcomes=tuple(outcomes))


async def apply_pending_link(context: FundingContext, pending: PendingLink) -> bool:
    """One pending link whose deposit is now recorded: the same decision as on the event, then the
    link is no longer pending. True when it linked (and the funding was driven on)."""
    async with context.unit_of_work() as uow:
        outcome = await _link(uow, pending.funding_id, pending.transfer_id, pending.match_id, context.clock)
        if outcome is not LinkOutcome.PENDING:
            await uow.deposits.drop_pending_link(pending.transfer_id, pending.funding_id)
        await uow.commit()
    if outcome is not LinkOutcome.LINKED:
        return False
    await linking.advance_funding(context, pending.funding_id)
    return True


async def _link(uow: FundingUnitOfWork, funding_id: str, transfer_id: str, match_id: str, clock: Clock) -> LinkOutcome:
    """Inside the caller's transaction. Every refusal is raised before the claim writes anything,
    so the transaction stays good for the next funding and the inbox row."""
    ids = {"funding_id": funding_id, "transfer_id": transfer_id, "match_id": match_id}
    try:
        await linking.claim_transfer(
            uow,
            funding_id,
            workspace_id=None,
            transfer_id=transfer_id,
            processor=None,  # reconciliation's external id is the processor's transfer id, without the processor
            actor=RECONCILIATION_ACTOR,
            clock=clock,
        )
    except NotFoundError as missing:
        if missing.error_code != linking.DEPOSIT_NOT_FOUND:
            return _skipped(missing, ids)
        await uow.deposits.add_pending_link(
            PendingLink(transfer_id=transfer_id, funding_id=funding_id, match_id=match_id, created_at=clock())
        )
        logger.info(
            "reconciled transfer %s waits for its deposit to link funding %s", transfer_id, funding_id, extra=ids
        )
        return LinkOutcome.PENDING
    except ConflictError as conflict:
        if conflict.extra.get("linked_funding_id") != funding_id:
            return _skipped(conflict, ids)
        logger.info("reconciled transfer %s is already funding %s's deposit", transfer_id, funding_id, extra=ids)
        return LinkOutcome.ALREADY_LINKED
    except FundingError as refusal:
        return _skipped(refusal, ids)
    logger.info("reconciled transfer %s linked to funding %s", transfer_id, funding_id, extra=ids)
    return LinkOutcome.LINKED


def _skipped(refusal: FundingError, ids: dict[str, str]) -> LinkOutcome:
    logger.warning(
        "reconciled transfer %s not linked to funding %s (%s): %s",
        ids["transfer_id"],
        ids["funding_id"],
        refusal.error_code,
        refusal.detail,
        extra={**ids, "code": refusal.error_code},
    )
    return LinkOutcome.SKIPPED
