"""Use cases for schema entries: post (FRAGMENT `addLedgerEntry`), reconcile (`reconcileTx`),
reverse, read, and list the accounts they create.

Resolving an entry (schema, parameters, currency) happens here, outside any transaction; the
posting itself is one `PostEntry` through the group-commit pipeline, which creates accounts,
checks conditions against locked balances and writes everything in one database transaction.
"""

from __future__ import annotations

import asyncpg

from clearway.ledger.adapters.schema_repository import SchemaRepository
from clearway.ledger.domain.entry_rules import (
    IkReused,
    LinkedAccountRequiresReconciliation,
    NoSchema,
    check_direct_posting,
    check_ik,
    check_reconciliation,
    check_single_currency,
    choose_schema,
    path_pattern_regex,
)
from clearway.ledger.domain.errors import NotFound
from clearway.ledger.domain.schema import LedgerSchema, ResolvedEntry, build_entry, reverse_entry
from clearway.ledger.service.commands import EntryRequest
from clearway.ledger.service.ledger_schemas import latest_schemas, schema_version
from clearway.ledger.service.posting.operations import EntryAccount, PostEntry
from clearway.ledger.service.posting.pipeline import PostingPipeline

REVERSAL_DESCRIPTION = "Reversal of entry {ik}"


async def post_entry(
    pool: asyncpg.Pool, pipeline: PostingPipeline, request: EntryRequest
) -> tuple[asyncpg.Record, bool]:
    """Post (or, with an external transaction, reconcile) one entry. Returns (entry row, replayed)."""
    check_ik(request.ik)
    fingerprint = request.fingerprint()
    existing = await _entry(pool, request.ledger_id, request.ik)
    if existing is not None:
        return _replay(existing, fingerprint, request), True
    schemas = await latest_schemas(pool, request.ledger_id)
    if not schemas:
        raise NoSchema(f"ledger {request.ledger_id} has no schema (or does not exist)", ledger_id=request.ledger_id)
    schema, entry_type = choose_schema(schemas, request.entry_type)
    entry = build_entry(schema, entry_type, request.parameters, request.currency_default)
    check_single_currency(entry)
    if request.external_transaction is None:
        check_direct_posting(entry)
    else:
        check_reconciliation(entry, request.external_transaction)
    accounts, condition_accounts = entry_accounts(schema, entry)
    operation = PostEntry(
        ledger_id=request.ledger_id,
        ik=request.ik,
        entry=entry,
        request_hash=fingerprint,
        accounts=accounts,
        condition_accounts=condition_accounts,
        description=request.description,
        external_transaction=request.external_transaction,
    )
    result = await pipeline.submit(operation)
    result.unwrap()
    row = await _entry(pool, request.ledger_id, request.ik)
    assert row is not None, "a posted entry has its row"
    return row, result.replayed


def _replay(existing: asyncpg.Record, fingerprint: str, request: EntryRequest) -> asyncpg.Record:
    if existing["request_hash"] != fingerprint:
        raise IkReused(
            f"ik {request.ik!r} was already used for a different entry on ledger {request.ledger_id}",
            transaction_id=existing["transaction_id"],
        )
    return existing


async def reverse(
    pool: asyncpg.Pool, pipeline: PostingPipeline, ledger_id: str, ik: str
) -> tuple[asyncpg.Record, bool]:
    """Post the entry's lines with opposite amounts, once. Returns (entry row, replayed)."""
    row = await get_entry(pool, ledger_id, ik)
    if row["reversed_by"] is not None:
        return row, True
    schema = await schema_version(pool, ledger_id, row["schema_key"], row["schema_version"])
    original = build_entry(schema, row["entry_type"], row["parameters"], row["currency"])
    assert [(line.account_path, line.amount_minor) for line in original.lines] == [
        (line["account_path"], line["amount_minor"]) for line in row["lines"]
    ], "a stored schema version rebuilds the same lines"
    if original.touches_linked_account:
        raise LinkedAccountRequiresReconciliation(
            f"entry {ik} moved a linked account; reconcile the bank's reversal with an entry of opposite amounts",
            ik=ik,
        )
    reversal = reverse_entry(original)
    accounts, _ = entry_accounts(schema, reversal)
    operation = PostEntry(
        ledger_id=ledger_id,
        ik=ik,
        entry=reversal,
        request_hash=row["request_hash"],
        accounts=accounts,
        description=REVERSAL_DESCRIPTION.format(ik=ik),
        reverses_transaction_id=row["transaction_id"],
    )
    result = await pipeline.submit(operation)
    result.unwrap()
    return await get_entry(pool, ledger_id, ik), result.replayed


def entry_accounts(
    schema: LedgerSchema, entry: ResolvedEntry
) -> tuple[tuple[EntryAccount, ...], tuple[EntryAccount, ...]]:
    """(accounts the lines name, accounts only the conditions name), each once per path and currency."""
    lines: dict[tuple[str, str], EntryAccount] = {}
    for line in entry.lines:
        lines.setdefault(
            (line.account_path, line.currency),
            EntryAccount(line.account_path, line.currency, line.account_type, line.flags.linked, line.flags.clearing),
        )
    conditions: dict[tuple[str, str], EntryAccount] = {}
    for condition in entry.conditions:
        slot = (condition.account_path, condition.currency)
        if slot in lines or slot in conditions:
            continue
        spec = schema.find_account(condition.account_path)
        assert spec is not None, "the engine only resolves conditions on declared accounts"
        conditions[slot] = EntryAccount(slot[0], slot[1], spec.type, spec.flags.linked, spec.flags.clearing)
    return tuple(lines.values()), tuple(conditions.values())


async def _entry(pool: asyncpg.Pool, ledger_id: str, ik: str) -> asyncpg.Record | None:
    async with pool.acquire() as connection:
        return await SchemaRepository(connection).get_entry(ledger_id, ik)


async def get_entry(pool: asyncpg.Pool, ledger_id: str, ik: str) -> asyncpg.Record:
    row = await _entry(pool, ledger_id, ik)
    if row is None:
        raise NotFound(f"ledger {ledger_id} has no entry with ik {ik[:80]!r}", ik=ik[:80])
    return row


async def list_accounts(
    pool: asyncpg.Pool,
    ledger_id: str,
    *,
    path_pattern: str | None,
    clearing_status: str | None,
    currency: str | None,
    starting_after: str | None,
    fetch_limit: int,
) -> list[asyncpg.Record]:
    """Up to `fetch_limit` accounts in balance-id order (the page plus one, for `has_more`)."""
    path_regex = path_pattern_regex(path_pattern) if path_pattern else None
    async with pool.acquire() as connection:
        repository = SchemaRepository(connection)
        if not await repository.ledger_exists(ledger_id):
            raise NotFound(f"ledger {ledger_id} not found", ledger_id=ledger_id)
        return await repository.list_accounts(
            ledger_id=ledger_id,
            path_regex=path_regex,
            clearing_status=clearing_status,
            currency=currency,
            starting_after=starting_after,
            limit=fetch_limit,
        )
