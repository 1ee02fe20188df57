"""What routes get from the app: a unit of work, and who may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.payout.adapters.unit_of_work import SqlPayoutUnitOfWork
from clearway.platform.auth import Principal, require_roles

READERS = ("read_only", "operator", "approver", "processor", "service")


def get_unit_of_work(request: Request) -> SqlPayoutUnitOfWork:
    return SqlPayoutUnitOfWork(request.app.state.session_factory)


UnitOfWorkDep = Annotated[SqlPayoutUnitOfWork, Depends(get_unit_of_work)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
