"""Lost callbacks: pending top-ups whose callback is overdue are asked about, and final answers
are applied exactly as a callback would be (`topups.apply_outcome`).

Due intents are claimed and rescheduled in one transaction (`FOR UPDATE SKIP LOCKED`), so two
instances never query the same push at once; the provider is asked outside any transaction.
A push whose outcome is unknown (no CheckoutRequestID) cannot be asked about and is never
re-sent: it is logged for reconciliation, as is one whose query budget is spent.
`main.py` runs `resolve_due` as a periodic task.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from clearway.funding.domain import topups as domain
from clearway.funding.domain.topup_errors import ConflictingOutcomeError
from clearway.funding.domain.topups import ResolvedBy, Topup
from clearway.funding.service.context import FundingContext
from clearway.funding.service.topup_outcomes import outcome_of_status
from clearway.funding.service.topups import apply_outcome
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import MobileMoneyProvider, ProviderError, StkFailed, StkSucceeded

logger = get_logger("clearway.funding.topups")
BATCH_SIZE_MAX = 1_000


@dataclass(frozen=True, slots=True)
class ResolverReport:
    checked: int = 0
    settled: int = 0
    still_pending: int = 0
    given_up: int = 0  # no checkout id (push outcome unknown) or query budget spent: reconcile
    errors: int = 0


async def resolve_due(context: FundingContext, batch_size_max: int) -> ResolverReport:
    """Ask the provider about pending top-ups whose callback is overdue; apply final answers."""
    assert 1 <= batch_size_max <= BATCH_SIZE_MAX
    provider = context.mobile_money_provider()
    policy = context.topup_policy
    now = context.clock()
    to_query: list[Topup] = []
    given_up = 0
    async with context.unit_of_work() as uow:
        # Claimed and rescheduled in one transaction, so two instances never ask twice.
        for topup in await uow.topups.lock_due_for_status_check(now, batch_size_max):
            if topup.checkout_request_id is None:
                logger.warning("top-up push outcome unknown; no status to query, reconcile", topup_id=topup.id)
                await uow.topups.update(domain.stop_checking(topup, now=now))
                given_up += 1
                continue
            last_check = topup.status_checks + 1 >= policy.status_queries_max
            next_check_at = None if last_check else now + timedelta(milliseconds=policy.status_query_interval_ms)
            await uow.topups.update(domain.status_checked(topup, now=now, next_check_at=next_check_at))
            if last_check:
                logger.warning("last status query for a top-up; reconcile if still pending", topup_id=topup.id)
            to_query.append(topup)
        await uow.commit()
    report = ResolverReport(checked=len(to_query), given_up=given_up)
    for topup in to_query:
        report = await _resolve_one(context, provider, topup, report)
    if report.checked or report.given_up:
        logger.info("top-up resolver pass", **dataclasses.asdict(report))
    return report


async def _resolve_one(
    context: FundingContext, provider: MobileMoneyProvider, topup: Topup, report: ResolverReport
) -> ResolverReport:
    assert topup.checkout_request_id is not None
    try:
        status = await provider.query_stk_status(topup.checkout_request_id)
    except ProviderError as error:
        logger.warning("top-up status query failed", topup_id=topup.id, error_code=error.code)
        return _bump(report, errors=1)
    if not isinstance(status, StkSucceeded | StkFailed):
        return _bump(report, still_pending=1)
    try:
        await apply_outcome(
            context, topup.checkout_request_id, outcome_of_status(status), resolved_by=ResolvedBy.STATUS_QUERY
        )
    except ConflictingOutcomeError:
        return _bump(report, errors=1)
    except Exception:
        # The ledger may be down: the top-up stays pending and the next check retries it.
        logger.exception("applying a status query answer failed", topup_id=topup.id)
        return _bump(report, errors=1)
    return _bump(report, settled=1)


def _bump(report: ResolverReport, *, settled: int = 0, still_pending: int = 0, errors: int = 0) -> ResolverReport:
    return dataclasses.replace(
        report,
        settled=report.settled + settled,
        still_pending=report.still_pending + still_pending,
        errors=report.errors + errors,
    )
