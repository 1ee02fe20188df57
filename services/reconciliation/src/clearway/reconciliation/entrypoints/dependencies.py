"""What routes get from the app: the reconciliation context, and who may do what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.platform.auth import APPROVER, OPERATOR, PROCESSOR, READ_ONLY, SERVICE, Principal, require_roles
from clearway.reconciliation.service.context import ReconciliationContext

READERS = (READ_ONLY, OPERATOR, APPROVER, PROCESSOR, SERVICE)
WRITERS = (OPERATOR, SERVICE)  # links, expectations, statements, matching runs, manual matches, resolutions


def get_context(request: Request) -> ReconciliationContext:
    context = request.app.state.reconciliation_context
    assert isinstance(context, ReconciliationContext)
    return context


ContextDep = Annotated[ReconciliationContext, Depends(get_context)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
