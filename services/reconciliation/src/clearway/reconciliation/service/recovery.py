"""The periodic pass: post what was matched but not posted, initiations not posted, reversals of
cancelled initiations, card clearings ready to split, then the checks (every `checks_every` passes). One bounded pass per call."""

from __future__ import annotations

from clearway.platform.logging import get_logger
from clearway.reconciliation.service import card_settlements, checks, expectations, posting
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.recovery")


async def recover_once(context: ReconciliationContext) -> int:
    limit = context.policy.posting_batch_size_max
    async with context.unit_of_work() as uow:
        initiations = await uow.expectations.initiations_pending(limit)
        cancelled = await uow.expectations.cancelled_with_posted_initiation(limit)
    done = 0
    for expectation in initiations:
        await expectations.post_initiation(context, expectation)
        done += 1
    for expectation in cancelled:
        await expectations.reverse_initiation(context, expectation)
        done += 1
    done += await posting.post_pending(context)
    return done + await card_settlements.post_ready_clearings(context, link_id=None)


async def check_once(context: ReconciliationContext) -> int:
    return (await checks.run_checks(context)).breaks_found
