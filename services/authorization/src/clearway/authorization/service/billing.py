"""The daily billing jobs (issue 10 §3-§4, seed 002 steps 6b, 9, 10): `accrue-interest`,
`close-cycles`, `mark-overdue`, each run for a business date.

Per account and date, in three steps: the plan (the ledger postings, and the statement a close
writes) is committed as a `pending` job run first (unique per job, account and date), then each
posting is asked for under its deterministic reference (asking again is a replay), then the run is
`done` together with what it changes (statement, event). A second run for the same date finds the
run and posts nothing new; one that finds it `pending` (a crash) replays the recorded plan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from clearway.authorization.domain import billing
from clearway.authorization.domain.card_accounts import (
    BILLED_BALANCE,
    CARD_PRIMARY,
    FEES_PAYABLE,
    OVERDUE_BALANCE,
    OVERDUE_INTEREST,
    TRANSACTION_INTEREST,
    CardAccount,
)
from clearway.authorization.domain.errors import ConflictError
from clearway.authorization.service.context import AuthorizationContext
from clearway.contracts.events import StatementClosed
from clearway.platform.ledger import LedgerBalance, LedgerUnavailableError, Posting
from clearway.platform.logging import get_logger

logger = get_logger("clearway.authorization.billing")


def interest_income(currency: str) -> str:
    """The program's interest income (seed 6b's `@EnfuceInterestAccrued`), one internal balance per currency."""
    return f"@CardInterest-{currency}"


def customer_repayments(currency: str) -> str:
    """Seed 9 and 11's `@CustomerRepayments`: the counterpart of billed principal until it is repaid."""
    return f"@CustomerRepayments-{currency}"


@dataclass
class AccountRun:
    card_account_id: str
    posted: list[dict[str, Any]] = field(default_factory=list)
    statement_number: int | None = None


@dataclass
class JobResult:
    job: str
    business_date: date
    accounts: list[AccountRun] = field(default_factory=list)
    skipped: int = 0  # accounts this date's run had already done


async def read_balances(context: AuthorizationContext, account: CardAccount) -> dict[str, LedgerBalance]:
    found: dict[str, LedgerBalance] = {}
    for balance_type in (CARD_PRIMARY, FEES_PAYABLE, TRANSACTION_INTEREST, BILLED_BALANCE, OVERDUE_BALANCE):
        found[balance_type] = await _balance(context, account, balance_type)
    found[OVERDUE_INTEREST] = await _balance(context, account, OVERDUE_INTEREST)
    return found


async def _balance(context: AuthorizationContext, account: CardAccount, balance_type: str) -> LedgerBalance:
    balance = await context.ledger.get_balance(account.balance_id(balance_type))
    if balance is None:
        raise LedgerUnavailableError(f"balance {balance_type} of {account.id} is missing on the ledger")
    return balance


def _posting_plan(reference: str, source: str, destination: str, amount_minor: int, description: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "source": source,
        "destination": destination,
        "amount_minor": amount_minor,
        "description": description,
    }


def daily_run(context: AuthorizationContext, job: str) -> Callable[[], Awaitable[JobResult]]:
    """The periodic task's run of `job` for today (UTC)."""

    async def run() -> JobResult:
        return await run_job(context, job, context.clock().date())

    return run


async def run_job(context: AuthorizationContext, job: str, business_date: date) -> JobResult:
    assert job in billing.BILLING_JOBS, job
    result = JobResult(job=job, business_date=business_date)
    after = ""
    cycle_day = business_date.day if job == billing.CLOSE_CYCLES else None
    while True:
        async with context.unit_of_work() as uow:
            ids = await uow.billing.active_account_ids(
                starting_after=after, limit=context.policy.batch_size_max, cycle_day=cycle_day
            )
        if not ids:
            return result
        for card_account_id in ids:
            try:
                run = await _run_for_account(context, job, card_account_id, business_date)
            except Exception:
                # One account must not stop the others; the next run for the date finishes it.
                logger.exception("billing job failed for an account", job=job, card_account_id=card_account_id)
                continue
            if run is None:
                result.skipped += 1
            else:
                result.accounts.append(run)
        after = ids[-1]


async def finish_run(context: AuthorizationContext, run: dict[str, Any]) -> AccountRun | None:
    """The recovery pass: finish a `pending` run with its recorded plan (None when it was done meanwhile)."""
    return await _run_for_account(context, str(run["job"]), str(run["card_account_id"]), run["business_date"])


async def _run_for_account(
    context: AuthorizationContext, job: str, card_account_id: str, business_date: date
) -> AccountRun | None:
    """None when this date's run for the account was already done."""
    async with context.unit_of_work() as uow:
        existing = await uow.billing.get_run(job, card_account_id, business_date)
        account = await uow.card_accounts.get(card_account_id)
    assert account is not None, "accounts are never deleted"
    if existing is not None and existing["status"] == "done":
        return None
    if existing is None:
        plan = await _plan(context, job, account, business_date)
        async with context.unit_of_work() as uow:
            if not await uow.billing.add_run(job, card_account_id, business_date, plan, context.clock()):
                raise ConflictError(f"{job} for {card_account_id} on {business_date} is running elsewhere")
            await uow.commit()
    else:
        plan = dict(existing["plan"])
    return await _finish(context, job, account, business_date, plan)


async def _plan(context: AuthorizationContext, job: str, account: CardAccount, business_date: date) -> dict[str, Any]:
    balances = await read_balances(context, account)
    if job == billing.ACCRUE_INTEREST:
        return _interest_plan(account, business_date, balances)
    if job == billing.CLOSE_CYCLES:
        return await _close_plan(context, account, business_date, balances)
    return await _overdue_plan(context, account, business_date, balances)


def _interest_plan(account: CardAccount, business_date: date, balances: dict[str, LedgerBalance]) -> dict[str, Any]:
    """Seed 6b and 10: a day's interest on what is inflight (held, not cleared) and on overdue principal."""
    postings: list[dict[str, Any]] = []
    pending_minor = billing.daily_interest_minor(
        balances[CARD_PRIMARY].inflight_debit_minor, account.terms.pending_interest_rate_bps
    )
    if pending_minor > 0:
        postings.append(
            _posting_plan(
                billing.interest_reference(account.id, business_date, "pending"),
                account.balance_id(TRANSACTION_INTEREST),
                interest_income(account.currency),
                pending_minor,
                "Interest accrued on pending transactions",
            )
        )
    overdue_minor = billing.daily_interest_minor(
        max(-balances[OVERDUE_BALANCE].balance_minor, 0), account.terms.overdue_interest_rate_bps
    )
    if overdue_minor > 0:
        postings.append(
            _posting_plan(
                billing.interest_reference(account.id, business_date, "overdue"),
                account.balance_id(OVERDUE_INTEREST),
                interest_income(account.currency),
                overdue_minor,
                "Interest accrued on overdue principal",
            )
        )
    return {"postings": postings}


async def _close_plan(
    context: AuthorizationContext, account: CardAccount, business_date: date, balances: dict[str, LedgerBalance]
) -> dict[str, Any]:
    """Seed 9: the statement of the cycle, and the principal not billed before moved into the billed balance."""
    async with context.unit_of_work() as uow:
        last = await uow.billing.last_statement(account.id)
        lines = await uow.billing.unbilled_clearings(account.id)
    number = 1 if last is None else int(last["number"]) + 1
    period_start = account.created_at.date() if last is None else last["period_end"] + timedelta(days=1)
    principal_minor = max(-balances[CARD_PRIMARY].balance_minor, 0)
    already_billed = max(-balances[BILLED_BALANCE].balance_minor, 0) + max(-balances[OVERDUE_BALANCE].balance_minor, 0)
    billed_minor = max(principal_minor - already_billed, 0)
    fees_minor = max(-balances[FEES_PAYABLE].balance_minor, 0)
    interest_minor = max(-balances[TRANSACTION_INTEREST].balance_minor, 0) + max(
        -balances[OVERDUE_INTEREST].balance_minor, 0
    )
    transactions = [
        {
            "id": line["id"],
            "clearing_id": line["clearing_id"],
            "card_id": line["card_id"],
            "merchant_name": line["merchant_name"],
            "merchant_category_code": line["merchant_category_code"],
            "amount_minor": int(line["amount_minor"]),
            "fee_minor": int(line["fee_minor"]),
            "forced": bool(line["forced"]),
            "cleared_at": line["cleared_at"].isoformat(),
        }
        for line in lines
    ]
    if sum(line["amount_minor"] for line in transactions) != billed_minor:
        logger.warning(
            "statement lines differ from the principal billed",
            card_account_id=account.id,
            lines_minor=sum(line["amount_minor"] for line in transactions),
            billed_minor=billed_minor,
        )
    postings = []
    if billed_minor > 0:
        postings.append(
            _posting_plan(
                billing.statement_reference(account.id, number, "bill"),
                account.balance_id(BILLED_BALANCE),
                customer_repayments(account.currency),
                billed_minor,
                "Invoice created",
            )
        )
    statement = {
        "card_account_id": account.id,
        "number": number,
        "currency": account.currency,
        "period_start": period_start.isoformat(),
        "period_end": business_date.isoformat(),
        "due_date": billing.due_date(business_date, account.terms.payment_due_days).isoformat(),
        "principal_minor": principal_minor,
        "billed_minor": billed_minor,
        "fees_minor": fees_minor,
        "interest_minor": interest_minor,
        "total_due_minor": already_billed + billed_minor + fees_minor + interest_minor,
        "transactions": transactions,
    }
    return {"postings": postings, "statement": statement}


async def _overdue_plan(
    context: AuthorizationContext, account: CardAccount, business_date: date, balances: dict[str, LedgerBalance]
) -> dict[str, Any]:
    """Seed 10: statements past their due date move what is still billed into the overdue balance."""
    async with context.unit_of_work() as uow:
        due = await uow.billing.unpaid_statements_due_before(account.id, business_date)
    if not due:
        return {"postings": [], "statements": []}
    numbers = [int(statement["number"]) for statement in due]
    billed_minor = max(-balances[BILLED_BALANCE].balance_minor, 0)
    postings = []
    if billed_minor > 0:
        postings.append(
            _posting_plan(
                billing.statement_reference(account.id, numbers[-1], "overdue"),
                account.balance_id(OVERDUE_BALANCE),
                account.balance_id(BILLED_BALANCE),
                billed_minor,
                "Invoice overdue",
            )
        )
    return {"postings": postings, "statements": numbers, "status": "overdue" if billed_minor > 0 else "paid"}


async def _finish(
    context: AuthorizationContext, job: str, account: CardAccount, business_date: date, plan: dict[str, Any]
) -> AccountRun:
    run = AccountRun(card_account_id=account.id)
    for item in plan["postings"]:
        transaction = await context.ledger.post(
            Posting(
                amount_minor=int(item["amount_minor"]),
                currency=account.currency,
                reference=str(item["reference"]),
                source=str(item["source"]),
                destination=str(item["destination"]),
                allow_overdraft=True,
                description=str(item["description"]),
                meta_data={"card_account_id": account.id, "job": job, "business_date": business_date.isoformat()},
            )
        )
        run.posted.append({**item, "transaction_id": transaction.transaction_id, "status": transaction.status})
    async with context.unit_of_work() as uow:
        current = await uow.billing.get_run(job, account.id, business_date)
        if current is None or current["status"] == "done":
            return run  # finished elsewhere meanwhile
        now = context.clock()
        statement = plan.get("statement")
        if statement is not None:
            run.statement_number = int(statement["number"])
            await _close(uow, statement, now)
        for number in plan.get("statements", []):
            await uow.billing.set_statement_status(account.id, int(number), str(plan["status"]), now)
        await uow.billing.finish_run(job, account.id, business_date, now)
        await uow.commit()
    logger.info("billing job ran", job=job, card_account_id=account.id, posted=len(run.posted))
    return run


async def _close(uow: Any, statement: dict[str, Any], now: datetime) -> None:
    row = {
        **statement,
        "period_start": date.fromisoformat(statement["period_start"]),
        "period_end": date.fromisoformat(statement["period_end"]),
        "due_date": date.fromisoformat(statement["due_date"]),
        "status": "open",
        "closed_at": now,
        "updated_at": now,
    }
    if not await uow.billing.add_statement(row):
        return
    await uow.billing.bill_clearings(
        statement["card_account_id"], [line["id"] for line in statement["transactions"]], statement["number"]
    )
    await uow.events.add(
        StatementClosed(
            card_account_id=statement["card_account_id"],
            number=statement["number"],
            currency=statement["currency"],
            period_start=row["period_start"],
            period_end=row["period_end"],
            due_date=row["due_date"],
            principal_minor=statement["principal_minor"],
            billed_minor=statement["billed_minor"],
            fees_minor=statement["fees_minor"],
            interest_minor=statement["interest_minor"],
            total_due_minor=statement["total_due_minor"],
            transactions_count=len(statement["transactions"]),
            closed_at=now,
        )
    )
