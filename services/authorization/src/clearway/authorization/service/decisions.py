"""The one use case both doors call (`POST /authorizations`, `card.authorization.requested`) and the
recovery pass finishes: an original authorization, or an incremental one raising an original's hold."""

from __future__ import annotations

from clearway.authorization.domain.authorizations import Authorization, AuthorizationRequest
from clearway.authorization.service import authorizations, incrementals
from clearway.authorization.service.authorizations import AuthorizeResult, InboxEntry
from clearway.authorization.service.context import AuthorizationContext


async def authorize(
    context: AuthorizationContext, request: AuthorizationRequest, *, inbox: InboxEntry | None = None
) -> AuthorizeResult:
    if request.incremental_of is not None:
        return await incrementals.authorize_incremental(context, request, inbox=inbox)
    return await authorizations.authorize(context, request, inbox=inbox)


async def decide(context: AuthorizationContext, pending: Authorization) -> Authorization:
    """Finish a `pending` authorization (a retry, the recovery pass)."""
    if pending.incremental_of is not None:
        return await incrementals.decide(context, pending)
    return await authorizations.decide(context, pending)
