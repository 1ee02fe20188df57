"""What routes get from the app: the authorization context, and who may call.

Processors (and services, admin) authorize, reverse and clear; operators (and admin) run the daily jobs; operators and services open accounts and
issue and change cards; readers read. An end user's token never authorizes anything here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.authorization.service.context import AuthorizationContext
from clearway.platform.auth import APPROVER, OPERATOR, PROCESSOR, READ_ONLY, SERVICE, Principal, require_roles

READERS = (READ_ONLY, OPERATOR, APPROVER, PROCESSOR, SERVICE)
ACCOUNT_MANAGERS = (OPERATOR, SERVICE)  # admin holds every role
AUTHORIZERS = (PROCESSOR, SERVICE)
JOB_RUNNERS = (OPERATOR,)  # and admin, who holds every role


def get_context(request: Request) -> AuthorizationContext:
    context = request.app.state.authorization_context
    assert isinstance(context, AuthorizationContext)
    return context


ContextDep = Annotated[AuthorizationContext, Depends(get_context)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
AccountManager = Annotated[Principal, Depends(require_roles(*ACCOUNT_MANAGERS))]
Authorizer = Annotated[Principal, Depends(require_roles(*AUTHORIZERS))]
JobRunner = Annotated[Principal, Depends(require_roles(*JOB_RUNNERS))]
