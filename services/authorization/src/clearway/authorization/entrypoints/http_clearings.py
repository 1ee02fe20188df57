"""Clearing routes: the processor's synchronous door for `card.clearing.received`, and reads.

`POST /clearings` answers 201 with the posted clearing the first time and 200 with the same clearing
for the same processor `clearing_id` afterwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from clearway.authorization.entrypoints.dependencies import Authorizer, ContextDep, Reader
from clearway.authorization.entrypoints.schemas_clearings import ClearingCreate, ClearingListParams, ClearingOut
from clearway.authorization.service import clearings
from clearway.platform.errors import problem_responses
from clearway.platform.pagination import Page

router = APIRouter(tags=["clearings"])


# An unknown card (or authorization) is a 404 (`CARD_NOT_FOUND`), though the path names no id.
@router.post(
    "/clearings",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ClearingOut, "description": "The same processor clearing id again: the clearing posted first."},
        **problem_responses(404),
    },
)
async def clear(body: ClearingCreate, _: Authorizer, context: ContextDep, response: Response) -> ClearingOut:
    result = await clearings.clear(context, body.request())
    assert result is not None, "an HTTP clearing answers or raises"
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return ClearingOut.from_domain(result.clearing)


@router.get("/clearings")
async def list_clearings(
    _: Reader, context: ContextDep, params: Annotated[ClearingListParams, Query()]
) -> Page[ClearingOut]:
    found = await clearings.list_clearings(
        context,
        card_id=params.card_id,
        clearing_id=params.clearing_id,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([ClearingOut.from_domain(item) for item in found], params.limit)


@router.get("/clearings/{clearing_id}")
async def get_clearing(clearing_id: str, _: Reader, context: ContextDep) -> ClearingOut:
    """`clearing_id` is ours (`ccl_...`) or the processor's."""
    return ClearingOut.from_domain(await clearings.get_clearing(context, clearing_id))
