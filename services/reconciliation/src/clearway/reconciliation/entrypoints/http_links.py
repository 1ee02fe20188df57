"""Link routes (FRAGMENT's Links): create and read links, import bank statements into one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from clearway.platform.errors import BadRequest
from clearway.platform.pagination import Page, PageParams
from clearway.reconciliation.entrypoints.dependencies import ContextDep, Reader, Writer
from clearway.reconciliation.entrypoints.schemas_links import LinkCreate, LinkOut, StatementImportOut
from clearway.reconciliation.service import links, reconcile_link, transactions

router = APIRouter(tags=["links"])
STATEMENT_BYTES_MAX = 20 * 1024 * 1024


@router.post("/links", status_code=status.HTTP_201_CREATED)
async def create_link(body: LinkCreate, principal: Writer, context: ContextDep) -> LinkOut:
    """Installs the `reconciliation` schema (seed 003's entry types) on the ledger first."""
    command = links.CreateLink(**body.model_dump())
    return LinkOut.from_domain(await links.create_link(context, command, actor=principal.name))


@router.get("/links")
async def list_links(_: Reader, context: ContextDep, params: Annotated[PageParams, Query()]) -> Page[LinkOut]:
    found = await links.list_links(context, starting_after=params.starting_after, limit=params.fetch_limit)
    return Page.from_overfetch([LinkOut.from_domain(link) for link in found], params.limit)


@router.get("/links/{link_id}")
async def get_link(link_id: str, _: Reader, context: ContextDep) -> LinkOut:
    return LinkOut.from_domain(await links.get_link(context, link_id))


@router.post("/links/{link_id}/statements", status_code=status.HTTP_201_CREATED)
async def import_statement(
    link_id: str,
    request: Request,
    principal: Writer,
    context: ContextDep,
    format: Annotated[str, Query(pattern=r"^(csv|camt053|mt940)$")] = "csv",
) -> StatementImportOut:
    """The statement file is the raw request body; re-importing it, or an overlapping one, adds only what is new."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > STATEMENT_BYTES_MAX:
        raise BadRequest("The statement is too large.", code="STATEMENT_TOO_LARGE")
    body = await request.body()
    if len(body) > STATEMENT_BYTES_MAX:
        raise BadRequest("The statement is too large.", code="STATEMENT_TOO_LARGE")
    result = await transactions.import_statement(context, link_id, body, format, actor=principal.name)
    await reconcile_link.after_arrival(context, link_id)
    opening, closing = result.statement.opening_balance, result.statement.closing_balance
    return StatementImportOut(
        statement_id=result.statement_id,
        imported=result.imported,
        skipped_duplicates=result.skipped_duplicates,
        opening_balance_minor=opening.amount_minor if opening else None,
        closing_balance_minor=closing.amount_minor if closing else None,
    )
