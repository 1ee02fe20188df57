"""Authorization routes: the processor's synchronous door, reversals and reads.

`POST /authorizations` answers 201 with the decision the first time and 200 with the same decision
for the same processor `authorization_id` afterwards. A decline is a decision (201), not an error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from clearway.authorization.entrypoints.dependencies import Authorizer, ContextDep, Reader
from clearway.authorization.entrypoints.schemas_authorizations import (
    AuthorizationCreate,
    AuthorizationListParams,
    AuthorizationOut,
    ReversalCreate,
)
from clearway.authorization.service import authorizations, decisions, reversals
from clearway.platform.pagination import Page

router = APIRouter(tags=["authorizations"])


@router.post(
    "/authorizations",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": AuthorizationOut, "description": "The same processor id again: its first decision."}},
)
async def authorize(
    body: AuthorizationCreate, _: Authorizer, context: ContextDep, response: Response
) -> AuthorizationOut:
    result = await decisions.authorize(context, body.request())
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return AuthorizationOut.from_domain(result.authorization)


@router.post("/authorizations/{authorization_id}/reversals")
async def reverse(authorization_id: str, body: ReversalCreate, _: Authorizer, context: ContextDep) -> AuthorizationOut:
    """`authorization_id` is ours (`cau_...`) or the processor's."""
    reversed_ = await reversals.reverse(context, authorization_id, body.amount_minor)
    assert reversed_ is not None, "an HTTP reversal answers or raises"
    return AuthorizationOut.from_domain(reversed_)


@router.get("/authorizations")
async def list_authorizations(
    _: Reader, context: ContextDep, params: Annotated[AuthorizationListParams, Query()]
) -> Page[AuthorizationOut]:
    found = await authorizations.list_authorizations(
        context,
        processor_authorization_id=params.authorization_id,
        card_id=params.card_id,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([AuthorizationOut.from_domain(item) for item in found], params.limit)


@router.get("/authorizations/{authorization_id}")
async def get_authorization(authorization_id: str, _: Reader, context: ContextDep) -> AuthorizationOut:
    return AuthorizationOut.from_domain(await authorizations.get_authorization(context, authorization_id))
