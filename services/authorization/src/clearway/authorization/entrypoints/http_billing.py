"""Billing routes: the daily billing jobs for a business date, statements, repayments.

`POST` routes honour an `Idempotency-Key` (the platform's middleware replays the first answer); a
repayment is also idempotent by its `reference`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from clearway.authorization.domain import billing as billing_domain
from clearway.authorization.domain.errors import NotFoundError
from clearway.authorization.entrypoints.dependencies import AccountManager, ContextDep, JobRunner, Reader
from clearway.authorization.entrypoints.schemas_clearings import JobRun
from clearway.authorization.service import billing, repayments

router = APIRouter(tags=["billing"])

STATEMENTS_PAGE_MAX = 100


class JobPosting(BaseModel):
    reference: str
    source: str
    destination: str
    amount_minor: int
    description: str
    transaction_id: str
    status: str


class JobAccountOut(BaseModel):
    card_account_id: str
    posted: list[JobPosting]
    statement_number: int | None = None


class BillingJobOut(BaseModel):
    job: str
    business_date: date
    accounts: list[JobAccountOut] = Field(description="Accounts this run changed or recorded, with what it posted.")
    posted: int = Field(description="Ledger postings this run made (0 when run again for the same date).")
    skipped: int = Field(description="Accounts whose run for this date was already done.")


class RepaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    reference: str = Field(min_length=1, max_length=200)


class StatementOut(BaseModel):
    card_account_id: str
    number: int
    currency: str
    period_start: date
    period_end: date
    due_date: date
    status: str
    principal_minor: int
    billed_minor: int
    fees_minor: int
    interest_minor: int
    total_due_minor: int
    transactions: list[dict[str, Any]]
    closed_at: datetime


class StatementPage(BaseModel):
    data: list[StatementOut]
    has_more: bool


def _job_out(result: billing.JobResult) -> BillingJobOut:
    accounts = [
        JobAccountOut(
            card_account_id=run.card_account_id,
            posted=[JobPosting(**item) for item in run.posted],
            statement_number=run.statement_number,
        )
        for run in result.accounts
    ]
    return BillingJobOut(
        job=result.job,
        business_date=result.business_date,
        accounts=accounts,
        posted=sum(len(run.posted) for run in result.accounts),
        skipped=result.skipped,
    )


@router.post(f"/admin/jobs/{billing_domain.ACCRUE_INTEREST}")
async def accrue_interest(body: JobRun, _: JobRunner, context: ContextDep) -> BillingJobOut:
    return _job_out(await billing.run_job(context, billing_domain.ACCRUE_INTEREST, body.business_date))


@router.post(f"/admin/jobs/{billing_domain.CLOSE_CYCLES}")
async def close_cycles(body: JobRun, _: JobRunner, context: ContextDep) -> BillingJobOut:
    return _job_out(await billing.run_job(context, billing_domain.CLOSE_CYCLES, body.business_date))


@router.post(f"/admin/jobs/{billing_domain.MARK_OVERDUE}")
async def mark_overdue(body: JobRun, _: JobRunner, context: ContextDep) -> BillingJobOut:
    return _job_out(await billing.run_job(context, billing_domain.MARK_OVERDUE, body.business_date))


@router.get("/card-accounts/{card_account_id}/statements")
async def list_statements(
    card_account_id: str,
    _: Reader,
    context: ContextDep,
    starting_after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=STATEMENTS_PAGE_MAX)] = 20,
) -> StatementPage:
    async with context.unit_of_work() as uow:
        if await uow.card_accounts.get(card_account_id) is None:
            raise NotFoundError(f"No card account {card_account_id[:64]}.", code="CARD_ACCOUNT_NOT_FOUND")
        rows = await uow.billing.statements(card_account_id, after_number=starting_after, limit=limit + 1)
    return StatementPage(data=[StatementOut(**row) for row in rows[:limit]], has_more=len(rows) > limit)


@router.get("/card-accounts/{card_account_id}/statements/{number}")
async def get_statement(card_account_id: str, number: int, _: Reader, context: ContextDep) -> StatementOut:
    async with context.unit_of_work() as uow:
        row = await uow.billing.statement(card_account_id, number)
    if row is None:
        raise NotFoundError(f"No statement {number} of {card_account_id[:64]}.", code="STATEMENT_NOT_FOUND")
    return StatementOut(**row)


@router.post("/card-accounts/{card_account_id}/repayments", status_code=status.HTTP_201_CREATED)
async def repay(
    card_account_id: str, body: RepaymentCreate, _: AccountManager, context: ContextDep, response: Response
) -> dict[str, Any]:
    request = repayments.RepaymentRequest(
        card_account_id=card_account_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reference=body.reference,
    )
    repayment, created = await repayments.repay(context, request)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {
        "id": repayment["id"],
        "card_account_id": repayment["card_account_id"],
        "reference": repayment["reference"],
        "amount_minor": repayment["amount_minor"],
        "currency": repayment["currency"],
        "status": repayment["status"],
        "allocation": repayment["allocation"],
        "created_at": repayment["created_at"],
        "posted_at": repayment["posted_at"],
    }
