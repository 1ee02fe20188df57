"""Statement routes: the statements a cycle close wrote, as JSON (the default) or as a PDF
(`Accept: application/pdf`); any other `Accept` is 406 `NOT_ACCEPTABLE`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from clearway.authorization.domain.errors import NotAcceptableError
from clearway.authorization.entrypoints.dependencies import ContextDep, Reader
from clearway.authorization.entrypoints.negotiation import negotiate
from clearway.authorization.entrypoints.schemas_statements import StatementOut, StatementPage
from clearway.authorization.service import statements
from clearway.platform.errors import problem_responses

router = APIRouter(tags=["statements"])

STATEMENTS_PAGE_MAX = 100
# Statement numbers are a PostgreSQL integer: a larger one is no statement, refused as malformed
# (it used to reach the query and fail there with a 500).
STATEMENT_NUMBER_MAX = 2**31 - 1
StatementNumber = Annotated[int, Path(ge=1, le=STATEMENT_NUMBER_MAX)]
JSON_MEDIA_TYPE = "application/json"
PDF_MEDIA_TYPE = "application/pdf"
STATEMENT_MEDIA_TYPES = (JSON_MEDIA_TYPE, PDF_MEDIA_TYPE)


@router.get("/card-accounts/{card_account_id}/statements")
async def list_statements(
    card_account_id: str,
    _: Reader,
    context: ContextDep,
    starting_after: Annotated[int, Query(ge=0, le=STATEMENT_NUMBER_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=STATEMENTS_PAGE_MAX)] = 20,
) -> StatementPage:
    found = await statements.list_statements(context, card_account_id, after_number=starting_after, limit=limit + 1)
    return StatementPage(data=[StatementOut.from_domain(item) for item in found[:limit]], has_more=len(found) > limit)


@router.get(
    "/card-accounts/{card_account_id}/statements/{number}",
    response_model=StatementOut,
    responses={
        200: {"content": {PDF_MEDIA_TYPE: {}}, "description": "The statement as JSON, or as a PDF document."},
        **problem_responses(406),
    },
)
async def get_statement(
    card_account_id: str, number: StatementNumber, request: Request, _: Reader, context: ContextDep
) -> Response | StatementOut:
    media_type = negotiate(request.headers.get("accept"), STATEMENT_MEDIA_TYPES)
    if media_type is None:
        raise NotAcceptableError(
            "A statement is available as application/json or application/pdf.",
            available=list(STATEMENT_MEDIA_TYPES),
        )
    if media_type == PDF_MEDIA_TYPE:
        pdf = await statements.render_pdf(context, card_account_id, number)
        disposition = f'inline; filename="statement-{card_account_id}-{number}.pdf"'
        return Response(pdf, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": disposition})
    return StatementOut.from_domain(await statements.get_statement(context, card_account_id, number))
