"""What routes get from the app: a unit of work, and who may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.authorization.adapters.unit_of_work import SqlAuthorizationUnitOfWork
from clearway.platform.auth import Principal, require_roles

READERS = ("read_only", "operator", "approver", "processor", "service")


def get_unit_of_work(request: Request) -> SqlAuthorizationUnitOfWork:
    return SqlAuthorizationUnitOfWork(request.app.state.session_factory)


UnitOfWorkDep = Annotated[SqlAuthorizationUnitOfWork, Depends(get_unit_of_work)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
