"""Use cases for a ledger's schemas: store a version, read them, install a shipped one.

A ledger may carry several schema keys (one per flow, e.g. `bulk_split` and `payment_receipt`);
each key has immutable versions and posting uses the latest. Accounts are shared by path across
keys, so every version is checked against the accounts that already exist and the other keys.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import asyncpg

from clearway.ledger.adapters.database import LedgerUnitOfWork
from clearway.ledger.adapters.schema_repository import SchemaRepository
from clearway.ledger.domain.entry_rules import ExistingAccount, SchemaVersionConflict, check_schema_accounts
from clearway.ledger.domain.errors import NotFound
from clearway.ledger.domain.schema import LedgerSchema, load_shipped_schemas, parse_schema_object

SCHEMA_KEYS_PER_LEDGER_MAX = 100
ACCOUNT_KINDS_MAX = 10_000
PARSED_CACHE_SIZE_MAX = 256

# Versions never change once stored, so a parsed schema can be reused for (ledger, key, version).
_parsed: OrderedDict[tuple[str, str, int], LedgerSchema] = OrderedDict()


def parsed_schema(row: asyncpg.Record) -> LedgerSchema:
    cache_key = (row["ledger_id"], row["key"], row["version"])
    schema = _parsed.get(cache_key)
    if schema is None:
        schema = parse_schema_object(row["document"], source=f"schema {row['key']} v{row['version']}")
        _parsed[cache_key] = schema
        if len(_parsed) > PARSED_CACHE_SIZE_MAX:
            _parsed.popitem(last=False)
    else:
        _parsed.move_to_end(cache_key)
    return schema


def document_of(schema: LedgerSchema) -> dict[str, Any]:
    """The stored form: normalised, so the same schema sent twice compares equal."""
    return schema.model_dump(mode="json")


async def put_schema(pool: asyncpg.Pool, ledger_id: str, document: object) -> tuple[asyncpg.Record, bool]:
    """Store `document` as a new version. Returns (row, created); sending a stored version again
    unchanged answers with it (created False), changing a stored version is refused.
    """
    schema = parse_schema_object(document)
    normalised = document_of(schema)
    async with LedgerUnitOfWork(pool) as uow:
        repository = SchemaRepository(uow.connection)
        if not await repository.lock_ledger(ledger_id):
            raise NotFound(f"ledger {ledger_id} not found", ledger_id=ledger_id)
        same_version = await repository.get_schema(ledger_id, schema.key, schema.version)
        if same_version is not None:
            if same_version["document"] != normalised:
                raise SchemaVersionConflict(
                    f"schema {schema.key} v{schema.version} already exists with other content; send a new version",
                    key=schema.key,
                    version=schema.version,
                )
            return same_version, False
        latest = await repository.get_schema(ledger_id, schema.key, None)
        if latest is not None and latest["version"] > schema.version:
            raise SchemaVersionConflict(
                f"schema {schema.key} is at v{latest['version']}; v{schema.version} is older",
                key=schema.key,
                latest_version=latest["version"],
            )
        others = [parsed_schema(row) for row in await repository.latest_schemas(ledger_id, SCHEMA_KEYS_PER_LEDGER_MAX)]
        kinds = await repository.account_kinds(ledger_id, ACCOUNT_KINDS_MAX)
        existing = [
            ExistingAccount(
                prefix=row["prefix"],
                is_template=row["is_template"],
                account_type=row["account_type"],
                is_linked=row["is_linked"],
                is_clearing=row["is_clearing"],
            )
            for row in kinds
        ]
        check_schema_accounts(schema, existing, others)
        row = await repository.insert_schema(ledger_id, schema.key, schema.version, normalised)
        await uow.commit()
    return row, True


async def list_schemas(
    pool: asyncpg.Pool, ledger_id: str, *, key: str | None = None, version: int | None = None
) -> list[asyncpg.Record]:
    """The latest version of every key, or of `key`, or exactly `key` v`version`."""
    async with pool.acquire() as connection:
        repository = SchemaRepository(connection)
        if not await repository.ledger_exists(ledger_id):
            raise NotFound(f"ledger {ledger_id} not found", ledger_id=ledger_id)
        if key is None:
            return await repository.latest_schemas(ledger_id, SCHEMA_KEYS_PER_LEDGER_MAX)
        row = await repository.get_schema(ledger_id, key, version)
    if row is None:
        which = f"{key} v{version}" if version is not None else key
        raise NotFound(f"ledger {ledger_id} has no schema {which}", key=key)
    return [row]


async def latest_schemas(pool: asyncpg.Pool, ledger_id: str) -> list[LedgerSchema]:
    async with pool.acquire() as connection:
        rows = await SchemaRepository(connection).latest_schemas(ledger_id, SCHEMA_KEYS_PER_LEDGER_MAX)
    return [parsed_schema(row) for row in rows]


async def schema_version(pool: asyncpg.Pool, ledger_id: str, key: str, version: int) -> LedgerSchema:
    async with pool.acquire() as connection:
        row = await SchemaRepository(connection).get_schema(ledger_id, key, version)
    assert row is not None, "an entry's schema version is never deleted"
    return parsed_schema(row)


def shipped_schema(key: str, version: int | None = None) -> LedgerSchema:
    """A schema file shipped with the ledger (its latest version unless `version` is given)."""
    matching = [schema for schema in load_shipped_schemas() if schema.key == key]
    if version is not None:
        matching = [schema for schema in matching if schema.version == version]
    if not matching:
        raise NotFound(f"no shipped schema {key}" + (f" v{version}" if version is not None else ""), key=key)
    return matching[-1]


async def install_shipped(
    pool: asyncpg.Pool, ledger_id: str, key: str, version: int | None = None
) -> tuple[asyncpg.Record, bool]:
    """Idempotent: installing the same shipped version twice answers with the stored one."""
    return await put_schema(pool, ledger_id, document_of(shipped_schema(key, version)))
