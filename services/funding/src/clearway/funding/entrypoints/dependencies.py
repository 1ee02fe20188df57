"""What routes get from the app: a unit of work, the funding context, and who may do what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.domain.workspaces import workspace_of
from clearway.funding.service.context import FundingContext
from clearway.platform.auth import USER, Principal, require_roles
from clearway.platform.idempotency import require_idempotency_key

# Every role may look; changing things needs more.
READERS = ("read_only", "operator", "approver", "processor", "service")
WRITERS = ("operator", "approver", "service")
# Approving (and withdrawing an approval) is a separate duty: only approvers (and admins).
APPROVERS = ("approver",)
WORKSPACE_ADMINS = ("operator",)
# Who may start a top-up for a wallet: the wallet app's backend, an operator, or the wallet's owner
# with an end-user token (routes then scope everything to `principal.user_id`).
TOPUP_STARTERS = ("operator", "service", USER)
# Every reader, and end users (who see only their own top-ups).
TOPUP_READERS = (*READERS, USER)


def get_unit_of_work(request: Request) -> SqlFundingUnitOfWork:
    return SqlFundingUnitOfWork(request.app.state.session_factory)


def get_context(request: Request) -> FundingContext:
    context = getattr(request.app.state, "funding_context", None)
    assert isinstance(context, FundingContext), "main.create_app wires the funding context"
    return context


UnitOfWorkDep = Annotated[SqlFundingUnitOfWork, Depends(get_unit_of_work)]
ContextDep = Annotated[FundingContext, Depends(get_context)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Approver = Annotated[Principal, Depends(require_roles(*APPROVERS))]
WorkspaceAdmin = Annotated[Principal, Depends(require_roles(*WORKSPACE_ADMINS))]
TopupStarter = Annotated[Principal, Depends(require_roles(*TOPUP_STARTERS))]
TopupReader = Annotated[Principal, Depends(require_roles(*TOPUP_READERS))]
IdempotencyKey = Annotated[str, Depends(require_idempotency_key)]


def workspace_id(principal: Principal) -> str:
    return workspace_of(principal.workspace_id)
