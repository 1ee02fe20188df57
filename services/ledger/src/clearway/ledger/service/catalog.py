"""Use cases for ledgers, identities, balances and monitors (everything but posting)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from clearway.ledger.adapters.balance_repository import GENERAL_LEDGER_ID
from clearway.ledger.adapters.database import LedgerUnitOfWork
from clearway.ledger.adapters.repository import CatalogRepository
from clearway.ledger.domain.entry_rules import check_ik
from clearway.ledger.domain.errors import InvalidRequest, NotFound, StateConflict
from clearway.ledger.domain.tenancy import PLATFORM, Tenant, check_named_internal
from clearway.ledger.service.commands import amount_in_minor, currency_precision
from clearway.ledger.service.ledger_owners import remember_owner
from clearway.platform.ids import new_id

MONITOR_FIELDS = frozenset(
    {
        "balance",
        "credit_balance",
        "debit_balance",
        "inflight_balance",
        "inflight_credit_balance",
        "inflight_debit_balance",
    }
)
MONITOR_OPERATORS = frozenset({">", "<", ">=", "<=", "==", "!="})


async def create_ledger(
    pool: asyncpg.Pool, name: str, meta_data: dict[str, Any], ik: str | None = None, tenant: Tenant = PLATFORM
) -> tuple[asyncpg.Record, bool]:
    """Create a ledger owned by the tenant's workspace (the platform's without one). With an `ik`
    it is create-once, as FRAGMENT's `createLedger`: a known ik answers the ledger its owner created
    with it (whatever name or meta_data come with it); iks are per owner. Returns (row, created).
    """
    if not name.strip():
        raise InvalidRequest("name is required", field="name")
    if ik is not None:
        check_ik(ik)
    async with LedgerUnitOfWork(pool) as uow:
        repository = CatalogRepository(uow.connection)
        row = await repository.insert_ledger(new_id("ldg"), name.strip(), meta_data, ik, tenant.workspace_id)
        if row is None:
            assert ik is not None, "only an ik can conflict"
            existing = await repository.ledger_owned_by_ik(ik, tenant.workspace_id)
            assert existing is not None, "the conflicting ledger is committed before the insert gives way"
            return existing, False
        await uow.commit()
    remember_owner(row["ledger_id"], row["workspace_id"])
    return row, True


async def get_ledger(pool: asyncpg.Pool, ledger_id: str, tenant: Tenant = PLATFORM) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await CatalogRepository(connection).get_ledger(ledger_id, tenant.workspace_id)
    if row is None:
        raise NotFound(f"ledger {ledger_id} not found")
    return row


async def create_identity(
    pool: asyncpg.Pool,
    identity_type: str | None,
    attributes: dict[str, Any],
    meta_data: dict[str, Any],
    tenant: Tenant = PLATFORM,
) -> asyncpg.Record:
    # Identities carry personal data and belong to the workspace that created them.
    async with LedgerUnitOfWork(pool) as uow:
        row = await CatalogRepository(uow.connection).insert_identity(
            new_id("idt"), identity_type, attributes, meta_data, tenant.workspace_id
        )
        await uow.commit()
    return row


async def get_identity(pool: asyncpg.Pool, identity_id: str, tenant: Tenant = PLATFORM) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await CatalogRepository(connection).get_identity(identity_id, tenant.workspace_id)
    if row is None:
        raise NotFound(f"identity {identity_id} not found")
    return row


async def create_balance(
    pool: asyncpg.Pool,
    *,
    ledger_id: str | None,
    identity_id: str | None,
    currency: str,
    indicator: str | None,
    meta_data: dict[str, Any],
    tenant: Tenant = PLATFORM,
) -> tuple[asyncpg.Record, bool]:
    """Create a balance; with an indicator it is get-or-create. Returns (row, created)."""
    currency = currency.upper()
    precision = currency_precision(currency)
    if indicator is not None and not tenant.is_platform:
        # `@Name` indicators are the platform's internal balances: a workspace that created
        # `@Fees` first would receive what the platform posts there.
        check_named_internal(Tenant(tenant.workspace_id, may_move_internal=False), (indicator,), ())
        if ledger_id is None:
            # The general ledger is the platform's; a workspace's balances live in its own ledgers.
            raise InvalidRequest("ledger_id is required for a workspace's balance", field="ledger_id")
    if indicator is not None and ledger_id is None:
        # Indicator balances (`@World`, `wallet:<identity>`) are found by indicator, not by ledger;
        # without a ledger they live in the general ledger.
        ledger_id = GENERAL_LEDGER_ID
    if not ledger_id:
        raise InvalidRequest("ledger_id is required", field="ledger_id")
    async with LedgerUnitOfWork(pool) as uow:
        repository = CatalogRepository(uow.connection)
        if await repository.get_ledger(ledger_id, tenant.workspace_id) is None:
            raise NotFound(f"ledger {ledger_id} not found", field="ledger_id")
        if identity_id and await repository.get_identity(identity_id, tenant.workspace_id) is None:
            raise NotFound(f"identity {identity_id} not found", field="identity_id")
        row = await repository.insert_balance(
            balance_id=new_id("bln"),
            ledger_id=ledger_id,
            identity_id=identity_id,
            indicator=indicator,
            currency=currency,
            precision=precision,
            meta_data=meta_data,
        )
        if row is None:
            assert indicator is not None
            existing = await repository.balance_by_indicator(indicator, currency)
            assert existing is not None
            if existing["ledger_id"] != ledger_id or existing["identity_id"] != identity_id:
                if not tenant.is_platform:
                    # Indicators are unique across the service: say it is taken, never by what.
                    raise StateConflict(f"indicator {indicator} in {currency} is already in use")
                raise StateConflict(
                    f"indicator {indicator} in {currency} already belongs to another ledger or identity",
                    balance_id=existing["balance_id"],
                )
            return existing, False
        await uow.commit()
    return row, True


async def get_balance(pool: asyncpg.Pool, balance_id: str, tenant: Tenant = PLATFORM) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await CatalogRepository(connection).get_balance(balance_id, tenant.workspace_id)
    if row is None:
        raise NotFound(f"balance {balance_id} not found")
    return row


async def balance_by_indicator(
    pool: asyncpg.Pool, indicator: str, currency: str, tenant: Tenant = PLATFORM
) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await CatalogRepository(connection).balance_by_indicator(indicator, currency.upper(), tenant.workspace_id)
    if row is None:
        raise NotFound(f"no balance with indicator {indicator} in {currency.upper()}")
    return row


async def balance_at(
    pool: asyncpg.Pool, balance_id: str, at: datetime, tenant: Tenant = PLATFORM
) -> tuple[asyncpg.Record, asyncpg.Record]:
    async with pool.acquire() as connection:
        repository = CatalogRepository(connection)
        row = await repository.get_balance(balance_id, tenant.workspace_id)
        if row is None:
            raise NotFound(f"balance {balance_id} not found")
        totals = await repository.balance_totals_at(balance_id, at)
    return row, totals


async def create_monitor(
    pool: asyncpg.Pool,
    *,
    balance_id: str,
    field: str,
    operator: str,
    value: Any,
    precision: int | None,
    description: str,
    tenant: Tenant = PLATFORM,
) -> asyncpg.Record:
    if field not in MONITOR_FIELDS:
        raise InvalidRequest(f"field must be one of {sorted(MONITOR_FIELDS)}", field="condition.field")
    if operator not in MONITOR_OPERATORS:
        raise InvalidRequest(f"operator must be one of {sorted(MONITOR_OPERATORS)}", field="condition.operator")
    async with LedgerUnitOfWork(pool) as uow:
        repository = CatalogRepository(uow.connection)
        balance = await repository.get_balance(balance_id, tenant.workspace_id)
        if balance is None:
            raise NotFound(f"balance {balance_id} not found", field="balance_id")
        value_minor = amount_in_minor(
            amount=value,
            precise_amount=None,
            precision=precision,
            currency_precision_value=balance["precision"],
            field="condition.value",
        )
        row = await repository.insert_monitor(
            new_id("mon"), balance_id, field, operator, value_minor, balance["precision"], description
        )
        await uow.commit()
    return row
