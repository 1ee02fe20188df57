"""The recovery pass: one bounded sweep that finishes what a crash or a lost request left.

- a card account still `opening` after the grace period: its ledger and balances are asked for again;
- an authorization still `pending`: its hold is asked for again (a replay adopts it, or the ledger's
  refusal is learned) and its one decision is committed with its event; an incremental one also
  voids the old hold its larger hold replaced (and its original stops `raising`);
- an authorization still `reversing`: its void and re-placed rest are asked for again;
- an authorization still `expiring`: its void is asked for again, then it is committed `expired`;
- a clearing still `pending`: its commit, release, difference and fee are asked for again;
- a repayment still `pending`: its split, principal and overdue-interest postings are asked for again;
- a billing job run still `pending` (accrue-interest, close-cycles, mark-overdue for an account and a
  date): its recorded plan is posted again and the run finished (statement, event) once.
The pass runs at start-up and every interval, so what a crash left is finished when the service is back.
Every step is a replay when it already happened, so running the pass twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from clearway.authorization.domain.authorizations import Authorization, AuthorizationStatus
from clearway.authorization.service import billing, card_accounts, clearings, decisions, expiry, repayments, reversals
from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.recovery")

T = TypeVar("T")


async def recover_once(context: AuthorizationContext) -> int:
    """-> how many accounts, authorizations, clearings, repayments and job runs the pass finished."""
    policy = context.policy
    older_than = context.clock() - timedelta(milliseconds=policy.recovery_grace_ms)
    async with context.unit_of_work() as uow:
        opening = await uow.card_accounts.opening_older_than(older_than, policy.batch_size_max)
        unfinished = await uow.authorizations.unfinished_older_than(older_than, policy.batch_size_max)
        pending_clearings = await uow.clearings.pending_older_than(older_than, policy.batch_size_max)
        pending_repayments = await uow.billing.pending_repayments_older_than(older_than, policy.batch_size_max)
        pending_runs = await uow.billing.pending_runs_older_than(older_than, policy.batch_size_max)
    done = await _each(opening, lambda account: card_accounts.finish_opening(context, account), "card_account_id")
    done += await _each(unfinished, lambda item: _finish(context, item), "authorization_id")
    done += await _each(pending_clearings, lambda item: clearings.finish(context, item), "clearing_id")
    done += await _each(pending_repayments, lambda row: repayments.finish_repayment(context, row), "repayment")
    done += await _each(pending_runs, lambda row: billing.finish_run(context, row), "job_run")
    return done


async def _finish(context: AuthorizationContext, authorization: Authorization) -> Authorization:
    if authorization.status is AuthorizationStatus.PENDING:
        return await decisions.decide(context, authorization)
    if authorization.status is AuthorizationStatus.EXPIRING:
        return await expiry.finish_expiry(context, authorization)
    return await reversals.finish_reversal(context, authorization)


async def _each(items: Sequence[T], step: Callable[[T], Awaitable[object]], label: str) -> int:
    done = 0
    for item in items:
        try:
            await step(item)
            done += 1
        except Exception:
            # One stuck row must not stop the others; the next pass tries it again.
            logger.exception("recovery step failed", **{label: _name(item)})
    return done


def _name(item: object) -> str:
    """A row's id for the log: a domain object's `id`, a repayment's, or a job run's key."""
    if isinstance(item, dict):
        return str(item.get("id") or f"{item.get('job')}:{item.get('card_account_id')}:{item.get('business_date')}")
    return str(getattr(item, "id", "?"))
