"""Ledger schemas, schema entries (post, reconcile, reverse) and schema accounts (FRAGMENT style)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StrictStr

from clearway.ledger.domain.entry_rules import IK_LENGTH_MAX, ExternalTransaction
from clearway.ledger.domain.errors import InvalidRequest
from clearway.ledger.domain.schema import load_shipped_schemas
from clearway.ledger.entrypoints.dependencies import Pipeline, Pool, Reader, ReaderTenant, WriterTenant
from clearway.ledger.entrypoints.render_entries import account_json, entry_json, schema_json, shipped_json
from clearway.ledger.service import commands, entries, ledger_schemas
from clearway.ledger.service.ledger_owners import check_ledger_visible
from clearway.platform.pagination import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX

router = APIRouter(tags=["ledger: schemas and entries"])

CURRENCY = r"^[A-Z]{3}$"
EXTERNAL_DETAILS_MAX = 20
LedgerId = Annotated[str, Path(min_length=1, max_length=100)]
Ik = Annotated[str, Path(min_length=1, max_length=IK_LENGTH_MAX)]


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=130, description='Entry type, or "<schema key>.<entry type>".')
    ik: str = Field(min_length=1, max_length=IK_LENGTH_MAX, description="Idempotency key, unique per ledger.")
    parameters: dict[str, StrictStr | StrictInt] = Field(
        default_factory=dict, description="Entry parameters; amounts in minor units (strings or integers)."
    )
    description: str = Field(default="", max_length=1000)
    currency: str | None = Field(default=None, pattern=CURRENCY, description="For lines whose account has none.")

    def parameter_strings(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.parameters.items()}


class ExternalTransactionBody(BaseModel):
    """The bank or provider transaction being reconciled; extra fields are kept with the entry."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=255)
    amount_minor: StrictInt = Field(description="Signed, as the linked account sees it: money in is positive.")
    currency: str = Field(pattern=CURRENCY)
    description: str | None = Field(default=None, max_length=1000)
    posted_at: datetime | None = None

    def to_domain(self) -> ExternalTransaction:
        extra: dict[str, JsonValue] = dict(self.model_extra or {})
        if len(extra) > EXTERNAL_DETAILS_MAX:
            raise InvalidRequest(f"external_transaction may carry at most {EXTERNAL_DETAILS_MAX} extra fields")
        details = {**extra, "description": self.description, "posted_at": self.posted_at}
        return ExternalTransaction(
            id=self.id,
            amount_minor=self.amount_minor,
            currency=self.currency,
            details={
                name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in details.items()
                if value is not None
            },
        )


class ReconcileCreate(EntryCreate):
    external_transaction: ExternalTransactionBody


def _answer(row: Any, replayed: bool, response: Response) -> dict[str, Any]:
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return entry_json(row)


# ---- schemas ------------------------------------------------------------------------------


@router.put("/ledgers/{ledger_id}/schema", status_code=status.HTTP_201_CREATED)
async def put_schema(
    ledger_id: LedgerId,
    document: Annotated[dict[str, Any], Body()],
    pool: Pool,
    tenant: WriterTenant,
    response: Response,
) -> dict[str, Any]:
    """Store a new schema version (`key`, `version`); the same version sent again unchanged answers 200."""
    await check_ledger_visible(pool, tenant, ledger_id)
    row, created = await ledger_schemas.put_schema(pool, ledger_id, document)
    if not created:
        response.status_code = status.HTTP_200_OK
    return schema_json(row)


@router.get("/ledgers/{ledger_id}/schema")
async def get_schema(
    ledger_id: LedgerId,
    pool: Pool,
    tenant: ReaderTenant,
    key: Annotated[str | None, Query(max_length=64)] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The latest version of each schema the ledger carries (or of `key`, or `key` at `version`)."""
    await check_ledger_visible(pool, tenant, ledger_id)
    if version is not None and key is None:
        raise InvalidRequest("version needs key", field="version")
    rows = await ledger_schemas.list_schemas(pool, ledger_id, key=key, version=version)
    return {"data": [schema_json(row) for row in rows], "has_more": False}


@router.get("/schemas/shipped")
async def list_shipped_schemas(_: Reader) -> dict[str, Any]:
    """Schema files that ship with the ledger, for services to install on their ledgers."""
    return {"data": [shipped_json(schema) for schema in load_shipped_schemas()], "has_more": False}


@router.post("/ledgers/{ledger_id}/schema/shipped/{key}", status_code=status.HTTP_201_CREATED)
async def install_shipped_schema(
    ledger_id: LedgerId,
    key: Annotated[str, Path(min_length=1, max_length=64)],
    pool: Pool,
    tenant: WriterTenant,
    response: Response,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Install a shipped schema file (its latest version by default); idempotent (200 when present)."""
    await check_ledger_visible(pool, tenant, ledger_id)
    row, created = await ledger_schemas.install_shipped(pool, ledger_id, key, version)
    if not created:
        response.status_code = status.HTTP_200_OK
    return schema_json(row)


# ---- entries ------------------------------------------------------------------------------


@router.post("/ledgers/{ledger_id}/entries", status_code=status.HTTP_201_CREATED)
async def post_entry(
    ledger_id: LedgerId, body: EntryCreate, pool: Pool, pipeline: Pipeline, tenant: WriterTenant, response: Response
) -> dict[str, Any]:
    """Post an entry type (FRAGMENT `addLedgerEntry`); entries moving a linked account must be reconciled."""
    await check_ledger_visible(pool, tenant, ledger_id)
    request = commands.EntryRequest(
        ledger_id=ledger_id,
        entry_type=body.type,
        ik=body.ik,
        parameters=body.parameter_strings(),
        description=body.description,
        currency=body.currency,
    )
    row, replayed = await entries.post_entry(pool, pipeline, request)
    return _answer(row, replayed, response)


@router.post("/ledgers/{ledger_id}/reconcile", status_code=status.HTTP_201_CREATED)
async def reconcile(
    ledger_id: LedgerId, body: ReconcileCreate, pool: Pool, pipeline: Pipeline, tenant: WriterTenant, response: Response
) -> dict[str, Any]:
    """Post an entry that records an external transaction (FRAGMENT `reconcileTx`); each reconciles once."""
    await check_ledger_visible(pool, tenant, ledger_id)
    request = commands.EntryRequest(
        ledger_id=ledger_id,
        entry_type=body.type,
        ik=body.ik,
        parameters=body.parameter_strings(),
        description=body.description,
        currency=body.currency,
        external_transaction=body.external_transaction.to_domain(),
    )
    row, replayed = await entries.post_entry(pool, pipeline, request)
    return _answer(row, replayed, response)


@router.post("/ledgers/{ledger_id}/entries/{ik}/reverse", status_code=status.HTTP_201_CREATED)
async def reverse_entry(
    ledger_id: LedgerId, ik: Ik, pool: Pool, pipeline: Pipeline, tenant: WriterTenant, response: Response
) -> dict[str, Any]:
    """Post the entry's lines with opposite amounts (once; again answers 200 with the same reversal)."""
    await check_ledger_visible(pool, tenant, ledger_id)
    row, replayed = await entries.reverse(pool, pipeline, ledger_id, ik)
    return _answer(row, replayed, response)


@router.get("/ledgers/{ledger_id}/entries/{ik}")
async def get_entry(ledger_id: LedgerId, ik: Ik, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    await check_ledger_visible(pool, tenant, ledger_id)
    return entry_json(await entries.get_entry(pool, ledger_id, ik))


# ---- accounts -----------------------------------------------------------------------------


@router.get("/ledgers/{ledger_id}/accounts")
async def list_accounts(
    ledger_id: LedgerId,
    pool: Pool,
    tenant: ReaderTenant,
    path: Annotated[str | None, Query(max_length=512, description="e.g. liabilities/pending_withdrawals:*")] = None,
    clearing_status: Annotated[Literal["pending", "cleared"] | None, Query()] = None,
    currency: Annotated[str | None, Query(pattern=CURRENCY)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
    starting_after: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    """The ledger's schema accounts; `clearing_status` keeps clearing accounts that are pending (non-zero)
    or cleared (zero), `path` matches FRAGMENT-style (`*` within one path segment).
    """
    await check_ledger_visible(pool, tenant, ledger_id)
    rows = await entries.list_accounts(
        pool,
        ledger_id,
        path_pattern=path,
        clearing_status=clearing_status,
        currency=currency,
        starting_after=starting_after,
        fetch_limit=limit + 1,
    )
    return {"data": [account_json(row) for row in rows[:limit]], "has_more": len(rows) > limit}
