"""What routes get from the app: the payout context, who may call, and whose resources they see.

End users (a bearer JWT whose `sub` is their ledger identity) see and act on their own resources
only; another user's is 404. Operators (API keys) name the user they act for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clearway.payout.domain.approvals import Actor
from clearway.payout.domain.errors import InvalidRequestError
from clearway.payout.service.context import PayoutContext
from clearway.platform.auth import (
    ADMIN,
    APPROVER,
    OPERATOR,
    READ_ONLY,
    SERVICE,
    USER,
    Principal,
    require_roles,
)
from clearway.platform.idempotency import require_idempotency_key

# A card processor has no business with users' wallets and withdrawals: not a reader here.
READERS = (USER, READ_ONLY, OPERATOR, APPROVER, SERVICE)
OPERATOR_READERS = (READ_ONLY, OPERATOR, APPROVER, SERVICE)
MOVERS = (USER, OPERATOR)  # may ask for money to move out of a wallet
SETTLEMENT_REQUESTERS = (OPERATOR,)  # admin holds every role
DECIDERS = (APPROVER,)


def get_context(request: Request) -> PayoutContext:
    context = request.app.state.payout_context
    assert isinstance(context, PayoutContext)
    return context


ContextDep = Annotated[PayoutContext, Depends(get_context)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
OperatorReader = Annotated[Principal, Depends(require_roles(*OPERATOR_READERS))]
Mover = Annotated[Principal, Depends(require_roles(*MOVERS))]
SettlementRequester = Annotated[Principal, Depends(require_roles(*SETTLEMENT_REQUESTERS))]
Decider = Annotated[Principal, Depends(require_roles(*DECIDERS))]
Admin = Annotated[Principal, Depends(require_roles(ADMIN))]
IdempotencyKey = Annotated[str, Depends(require_idempotency_key)]


def acting_owner(principal: Principal, identity_id: str | None) -> str:
    """Whose wallet a write acts on: the user's own, or the one an operator names."""
    if principal.user_id is not None:
        if identity_id is not None and identity_id != principal.user_id:
            raise InvalidRequestError(
                "identity_id names another user; a user acts on their own wallet only.", code="IDENTITY_MISMATCH"
            )
        return principal.user_id
    if identity_id is None:
        raise InvalidRequestError("identity_id is required when an operator acts for a user.", code="IDENTITY_REQUIRED")
    return identity_id


def visible_owner(principal: Principal, requested: str | None = None) -> str | None:
    """Whose resources a read may show: a user's own only; an operator's choice (None: everyone's)."""
    return principal.user_id if principal.user_id is not None else requested


def actor_of(principal: Principal) -> Actor:
    return Actor(name=principal.name, roles=tuple(sorted(principal.roles)))
