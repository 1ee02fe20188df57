"""Billing routes: the daily billing jobs for a business date, repayments (statements: `http_statements.py`).

`POST` routes honour an `Idempotency-Key` (the platform's middleware replays the first answer); a
repayment is also idempotent by its `reference`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from clearway.authorization.domain import billing as billing_domain
from clearway.authorization.entrypoints.dependencies import AccountManager, ContextDep, JobRunner, Reader
from clearway.authorization.entrypoints.schemas_clearings import JobRun
from clearway.authorization.entrypoints.schemas_repayments import RepaymentListParams, RepaymentOut
from clearway.authorization.service import billing, repayments
from clearway.platform.pagination import Page

router = APIRouter(tags=["billing"])


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


@router.post("/card-accounts/{card_account_id}/repayments", status_code=status.HTTP_201_CREATED)
async def repay(
    card_account_id: str, body: RepaymentCreate, _: AccountManager, context: ContextDep, response: Response
) -> RepaymentOut:
    request = repayments.RepaymentRequest(
        card_account_id=card_account_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reference=body.reference,
    )
    repayment, created = await repayments.repay(context, request)
    if not created:
        response.status_code = status.HTTP_200_OK
    return RepaymentOut.from_row(repayment)


@router.get("/card-accounts/{card_account_id}/repayments")
async def list_repayments(
    card_account_id: str, _: Reader, context: ContextDep, params: Annotated[RepaymentListParams, Query()]
) -> Page[RepaymentOut]:
    """Posted, pending and refused repayments (a refused one was never posted: see its `reason`), in id order."""
    found = await repayments.list_repayments(
        context, card_account_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([RepaymentOut.from_row(row) for row in found], params.limit)
