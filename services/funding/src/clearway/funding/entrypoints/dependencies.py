"""What routes get from the app: a unit of work, and who may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.platform.auth import Principal, require_roles

# Every role may look at deposits; changing them will need more.
READERS = ("read_only", "operator", "approver", "processor", "service")


def get_unit_of_work(request: Request) -> SqlFundingUnitOfWork:
    return SqlFundingUnitOfWork(request.app.state.session_factory)


UnitOfWorkDep = Annotated[SqlFundingUnitOfWork, Depends(get_unit_of_work)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
