"""The recovery loop: finishes whatever a crash (or an unreachable ledger or mail server) left
half done. `main.py` runs `recover_once` at start and then every `recovery_interval_ms` (a
periodic task); each pass is bounded by `batch_size_max` per kind of work.

- links reconciliation asked for before the deposit was recorded: apply them now that it is;
- fundings in `linking`/`funded`: drive them to `paid_out` (ledger replays make this safe);
- payables in `paying`: repeat the hold and commit it (or send the payable back to waiting);
- invoices not yet sent: send them (bounded attempts);
- overdue unpaid fundings: expire them, returning their payables to approved;
- payables waiting for funds in a workspace with a wallet: pay them if the balance now covers them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from clearway.funding.service import balance_payments, fundings, invoices, linking, reconciled_links
from clearway.funding.service.context import FundingContext

logger = logging.getLogger(__name__)

INVOICE_RESEND_AFTER_S = 30


@dataclass
class RecoveryReport:
    pending_links_applied: int = 0
    fundings_advanced: int = 0
    payables_resumed: int = 0
    invoices_sent: int = 0
    fundings_expired: int = 0
    payables_paid_from_balance: int = 0
    failures: int = 0


async def _each(ids: list[str], step: Callable[[str], Awaitable[object]], report: RecoveryReport, what: str) -> int:
    done = 0
    for item_id in ids:
        try:
            await step(item_id)
            done += 1
        except Exception:
            # One stuck item must not starve the others; it is tried again next pass.
            report.failures += 1
            logger.exception("recovery: %s %s failed", what, item_id)
    return done


async def recover_once(context: FundingContext) -> RecoveryReport:
    report = RecoveryReport()
    limit = context.batch_size_max
    async with context.unit_of_work() as uow:
        pending_links = list(await uow.deposits.pending_links_ready(limit))
        unfinished = list(await uow.fundings.unfinished(limit))
        paying = list(await uow.payables.paying(limit))
        overdue = list(await uow.fundings.overdue(context.clock(), limit))
        # Fresh invoices are still being sent by the request that created them.
        created_before = context.clock() - timedelta(seconds=INVOICE_RESEND_AFTER_S)
        unsent = list(await uow.fundings.unsent_invoices(context.terms.send_attempts_max, created_before, limit))
        waiting_groups = list(await uow.payables.waiting_groups(limit))

    async def advance(funding_id: str) -> object:
        return await linking.advance_funding(context, funding_id)

    async def resume(payable_id: str) -> object:
        return await balance_payments.resume_paying(context, payable_id)

    async def send(funding_id: str) -> object:
        return await invoices.deliver_invoice(context, funding_id)

    async def expire(funding_id: str) -> object:
        return await fundings.expire_funding(context, funding_id)

    # First, so a funding reconciliation found paid is linked before this pass could expire it.
    for pending in pending_links:
        try:
            if await reconciled_links.apply_pending_link(context, pending):
                report.pending_links_applied += 1
        except Exception:
            report.failures += 1
            logger.exception(
                "recovery: applying the pending link %s -> %s failed", pending.transfer_id, pending.funding_id
            )
    report.fundings_advanced = await _each(unfinished, advance, report, "advancing funding")
    report.payables_resumed = await _each(paying, resume, report, "resuming payable")
    report.invoices_sent = await _each(unsent, send, report, "sending invoice")
    report.fundings_expired = await _each(overdue, expire, report, "expiring funding")
    for workspace_id, currency in waiting_groups:
        try:
            report.payables_paid_from_balance += await balance_payments.pay_waiting(context, workspace_id, currency)
        except Exception:
            report.failures += 1
            logger.exception("recovery: paying waiting payables of %s in %s failed", workspace_id, currency)
    if report.failures or report.pending_links_applied or report.fundings_advanced or report.payables_resumed:
        logger.info("recovery pass: %s", report)
    return report
