"""Blnk-compatible ledgers, identities, balances and balance monitors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from clearway.ledger.adapters.repository import CatalogRepository
from clearway.ledger.domain.entry_rules import IK_LENGTH_MAX
from clearway.ledger.domain.errors import NotFound
from clearway.ledger.entrypoints.dependencies import Pool, ReaderTenant, WriterTenant
from clearway.ledger.entrypoints.render import balance_json, identity_json, ledger_json
from clearway.ledger.entrypoints.schemas import BalanceCreate, IdentityCreate, LedgerCreate, MonitorCreate
from clearway.ledger.service import catalog

router = APIRouter(tags=["ledger: accounts"])
Limit = Query(default=20, ge=1, le=100)
Offset = Query(default=0, ge=0, le=1_000_000)


@router.post(
    "/ledgers",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A known `ik`: the ledger it created before"}},
)
async def create_ledger(body: LedgerCreate, pool: Pool, tenant: WriterTenant, response: Response) -> dict[str, Any]:
    """Create a ledger (the caller's workspace's); with an `ik`, once: a known ik answers 200 with
    the existing ledger. Iks are per workspace (the platform's are its own)."""
    row, created = await catalog.create_ledger(pool, body.name, body.meta_data, body.ik, tenant)
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return ledger_json(row)


@router.get("/ledgers")
async def list_ledgers(
    pool: Pool,
    tenant: ReaderTenant,
    limit: int = Limit,
    offset: int = Offset,
    ik: Annotated[str | None, Query(min_length=1, max_length=IK_LENGTH_MAX)] = None,
) -> list[dict[str, Any]]:
    """Ledgers the caller may see, by creation; `ik` keeps the one ledger the caller's workspace
    (or, for a platform key, the platform) created with it (a list of zero or one)."""
    async with pool.acquire() as connection:
        rows = await CatalogRepository(connection).list_ledgers(limit, offset, ik, tenant.workspace_id)
    return [ledger_json(row) for row in rows]


@router.get("/ledgers/{ledger_id}")
async def get_ledger(ledger_id: str, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    return ledger_json(await catalog.get_ledger(pool, ledger_id, tenant))


@router.post("/identities", status_code=status.HTTP_201_CREATED)
async def create_identity(body: IdentityCreate, pool: Pool, tenant: WriterTenant) -> dict[str, Any]:
    attributes = {key: value for key, value in (body.model_extra or {}).items() if isinstance(value, str | int)}
    return identity_json(await catalog.create_identity(pool, body.identity_type, attributes, body.meta_data, tenant))


@router.get("/identities")
async def list_identities(
    pool: Pool, tenant: ReaderTenant, limit: int = Limit, offset: int = Offset
) -> list[dict[str, Any]]:
    async with pool.acquire() as connection:
        rows = await CatalogRepository(connection).list_identities(limit, offset, tenant.workspace_id)
    return [identity_json(row) for row in rows]


@router.get("/identities/{identity_id}")
async def get_identity(identity_id: str, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    return identity_json(await catalog.get_identity(pool, identity_id, tenant))


@router.post("/balances", status_code=status.HTTP_201_CREATED)
async def create_balance(body: BalanceCreate, pool: Pool, tenant: WriterTenant, response: Response) -> dict[str, Any]:
    row, created = await catalog.create_balance(
        pool,
        ledger_id=body.ledger_id,
        identity_id=body.identity_id,
        currency=body.currency,
        indicator=body.indicator,
        meta_data=body.meta_data,
        tenant=tenant,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return balance_json(row)


@router.get("/balances")
async def list_balances(
    pool: Pool,
    tenant: ReaderTenant,
    ledger_id: str | None = None,
    identity_id: str | None = None,
    currency: str | None = None,
    limit: int = Limit,
    offset: int = Offset,
) -> list[dict[str, Any]]:
    async with pool.acquire() as connection:
        rows = await CatalogRepository(connection).list_balances(
            ledger_id=ledger_id,
            identity_id=identity_id,
            currency=currency,
            limit=limit,
            offset=offset,
            workspace_id=tenant.workspace_id,
        )
    return [balance_json(row) for row in rows]


@router.get("/balances/indicator/{indicator}/currency/{currency}")
async def balance_by_indicator(indicator: str, currency: str, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    return balance_json(await catalog.balance_by_indicator(pool, indicator, currency, tenant))


@router.get("/balances/{balance_id}")
async def get_balance(balance_id: str, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    return balance_json(await catalog.get_balance(pool, balance_id, tenant))


@router.get("/balances/{balance_id}/at")
async def balance_at(balance_id: str, timestamp: datetime, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    row, totals = await catalog.balance_at(pool, balance_id, timestamp, tenant)
    return {**balance_json(row, totals), "timestamp": timestamp.isoformat()}


@router.post("/balance-monitors", status_code=status.HTTP_201_CREATED)
async def create_monitor(body: MonitorCreate, pool: Pool, tenant: WriterTenant) -> dict[str, Any]:
    row = await catalog.create_monitor(
        pool,
        balance_id=body.balance_id,
        field=body.condition.field,
        operator=body.condition.operator,
        value=body.condition.value,
        precision=body.condition.precision,
        description=body.description,
        tenant=tenant,
    )
    return monitor_json(row)


@router.get("/balance-monitors/{monitor_id}")
async def get_monitor(monitor_id: str, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    async with pool.acquire() as connection:
        row = await CatalogRepository(connection).get_monitor(monitor_id, tenant.workspace_id)
    if row is None:
        raise NotFound(f"monitor {monitor_id} not found")
    return monitor_json(row)


def monitor_json(row: Any) -> dict[str, Any]:
    return {
        "monitor_id": row["monitor_id"],
        "balance_id": row["balance_id"],
        "description": row["description"],
        "condition": {
            "field": row["field"],
            "operator": row["operator"],
            "precise_value": row["value_minor"],
            "precision": row["precision"],
        },
        "triggered": row["is_triggered"],
        "created_at": row["created_at"].isoformat(),
    }
