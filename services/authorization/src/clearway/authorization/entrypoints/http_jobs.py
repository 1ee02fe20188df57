"""Daily jobs run for a given business date (issue 10 §3): tests and operators move time only this way.

Only `expire-authorizations` exists yet; it answers how many authorizations it expired, and nothing
the second time for the same date.
"""

from __future__ import annotations

from fastapi import APIRouter

from clearway.authorization.entrypoints.dependencies import ContextDep, JobRunner
from clearway.authorization.entrypoints.schemas_clearings import JobOut, JobRun
from clearway.authorization.service import expiry

router = APIRouter(tags=["jobs"])


@router.post(f"/admin/jobs/{expiry.EXPIRE_AUTHORIZATIONS}")
async def expire_authorizations(body: JobRun, _: JobRunner, context: ContextDep) -> JobOut:
    expired = await expiry.expire_authorizations(context, body.business_date)
    return JobOut(job=expiry.EXPIRE_AUTHORIZATIONS, business_date=body.business_date, expired=expired)
