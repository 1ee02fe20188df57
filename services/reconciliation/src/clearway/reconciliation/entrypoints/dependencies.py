"""What routes get from the app: a unit of work, and who may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.platform.auth import Principal, require_roles
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork

# Every role may look at what banks reported; matching and breaks will need more.
READERS = ("read_only", "operator", "approver", "processor", "service")


def get_unit_of_work(request: Request) -> SqlReconciliationUnitOfWork:
    return SqlReconciliationUnitOfWork(request.app.state.session_factory)


UnitOfWorkDep = Annotated[SqlReconciliationUnitOfWork, Depends(get_unit_of_work)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
