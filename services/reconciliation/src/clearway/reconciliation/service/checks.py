"""Checks that find breaks, run on a schedule and on demand (`POST /checks/runs`).

- clearing_pending_too_long: an outbound payment initiated (its pending clearing account non-zero)
  longer than its link's `clearing_max_age_s` without settling;
- unreconciled_too_long: an external transaction nobody matched within the same age;
- balance_mismatch: a link's cash account in the ledger differs from the bank's latest closing
  balance (statement imports keep it) once every line up to it is reconciled;
- deposit_not_posted: a deposit funding linked has no ledger posting (cross-service);
- payout_not_settled: a payout's outbound expectation still open past the settlement window;
- orphan_hold: an inflight ledger hold no live workflow of its owner needs (cross-service,
  `orphan_holds.py`): its withdrawal is missing or ended, or no owner claims its reference.
Each finding is stored once per (kind, subject) and published as `reconciliation.break_detected`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.breaks import BreakKind, DetectedBreak
from clearway.reconciliation.domain.expectations import Expectation, ExpectationStatus
from clearway.reconciliation.domain.external_transactions import ReconStatus
from clearway.reconciliation.service import breaks
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.checks")


@dataclass(frozen=True, slots=True)
class CheckRun:
    checked: dict[str, int]
    breaks_found: int


async def run_checks(context: ReconciliationContext) -> CheckRun:
    findings: list[DetectedBreak] = []
    checked: dict[str, int] = {}
    now = context.clock()
    limit = context.policy.checks_batch_size_max
    async with context.unit_of_work() as uow:
        links = await uow.links.list(starting_after=None, limit=1_000)
        open_expectations: list[Expectation] = []
        for link in links:
            open_expectations.extend(
                await uow.expectations.list(
                    link_id=link.id, status=ExpectationStatus.OPEN, starting_after=None, limit=limit
                )
            )
        unreconciled = await uow.external_transactions.unreconciled_older_than(now, limit)
        closings = {link.id: await uow.statements.latest_closing(link.id) for link in links}
    by_id = {link.id: link for link in links}
    checked["links"] = len(links)
    checked["open_expectations"] = len(open_expectations)
    for expectation in open_expectations:
        link = by_id[expectation.link_id]
        age = now - expectation.created_at
        if expectation.direction == "outbound" and age > timedelta(seconds=link.clearing_max_age_s):
            findings.append(
                DetectedBreak(
                    BreakKind.CLEARING_PENDING_TOO_LONG,
                    subject=f"{link.ledger_id}:liabilities/pending_withdrawals:{expectation.payment_id}",
                    link_id=link.id,
                    detail={
                        "expectation_id": expectation.id,
                        "age_s": int(age.total_seconds()),
                        "max_age_s": link.clearing_max_age_s,
                        "amount_minor": expectation.amount_minor,
                    },
                )
            )
        if expectation.source == "payout" and age > timedelta(seconds=context.policy.payout_settlement_window_s):
            findings.append(
                DetectedBreak(
                    BreakKind.PAYOUT_NOT_SETTLED,
                    subject=expectation.source_id or expectation.id,
                    link_id=link.id,
                    detail={
                        "expectation_id": expectation.id,
                        "withdrawal_id": expectation.source_id,
                        "age_s": int(age.total_seconds()),
                    },
                )
            )
    checked["unreconciled_transactions"] = len(unreconciled)
    for transaction in unreconciled:
        owner = by_id.get(transaction.link_id or "")
        if owner is not None and now - transaction.created_at > timedelta(seconds=owner.clearing_max_age_s):
            findings.append(
                DetectedBreak(
                    BreakKind.UNRECONCILED_TOO_LONG,
                    subject=transaction.id,
                    link_id=owner.id,
                    detail={
                        "external_id": transaction.external_id,
                        "amount_minor": transaction.amount_minor,
                        "direction": transaction.direction,
                        "reference": transaction.reference,
                    },
                )
            )
    for link in links:
        closing = closings.get(link.id)
        if closing is None:
            continue
        checked["balance_checks"] = checked.get("balance_checks", 0) + 1
        finding = await _balance_mismatch(
            context, link.id, link.ledger_id, link.cash_account_path, link.currency, closing
        )
        if finding is not None:
            findings.append(finding)
    if context.orphan_holds is not None:
        scan = await context.orphan_holds.scan(
            now=now,
            grace_s=context.policy.orphan_hold_grace_s,
            holds_max=limit,
            concurrent_max=context.policy.owner_queries_concurrent_max,
        )
        checked.update(scan.checked)
        findings.extend(scan.findings)
    found = 0
    async with context.unit_of_work() as uow:
        for finding in findings:
            found += await breaks.raise_break(uow, context, finding)
        await uow.commit()
    if found:
        logger.warning("checks found breaks", breaks=found)
    return CheckRun(checked, found)


async def _balance_mismatch(
    context: ReconciliationContext, link_id: str, ledger_id: str, path: str, currency: str, closing: tuple[int, object]
) -> DetectedBreak | None:
    bank_minor, closing_on = closing
    async with context.unit_of_work() as uow:
        open_lines = await uow.external_transactions.list(
            link_id=link_id, status=ReconStatus.UNRECONCILED, starting_after=None, limit=1
        )
    if open_lines:
        return None  # not comparable until every line is reconciled: the unreconciled check reports those
    accounts, _ = await context.ledger.list_accounts(ledger_id, path=path, currency=currency, limit=1)
    ledger_minor = accounts[0].own_balance_minor if accounts else 0
    if ledger_minor == bank_minor:
        return None
    return DetectedBreak(
        BreakKind.BALANCE_MISMATCH,
        subject=f"{ledger_id}:{path}:{currency}",
        link_id=link_id,
        detail={
            "ledger_minor": ledger_minor,
            "bank_closing_minor": bank_minor,
            "closing_on": str(closing_on),
            "difference_minor": ledger_minor - bank_minor,
        },
    )


async def check_deposit_posted(
    context: ReconciliationContext, *, funding_id: str, transfer_id: str, amount_minor: int, currency: str
) -> bool:
    """Cross-service: the deposit funding linked must have its ledger posting. False if a break was raised."""
    reference = f"funding:{funding_id}:deposit:{transfer_id}"
    if await context.ledger.find_transaction(reference) is not None:
        return True
    async with context.unit_of_work() as uow:
        await breaks.raise_break(
            uow,
            context,
            DetectedBreak(
                BreakKind.DEPOSIT_NOT_POSTED,
                subject=reference,
                detail={
                    "funding_id": funding_id,
                    "transfer_id": transfer_id,
                    "amount_minor": amount_minor,
                    "currency": currency,
                    "expected_ledger_reference": reference,
                },
            ),
        )
        await uow.commit()
    return False
