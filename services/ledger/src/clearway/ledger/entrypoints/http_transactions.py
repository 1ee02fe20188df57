"""Blnk-compatible transactions: create, inflight commit/void, refund, bulk, search, list."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response, status

from clearway.ledger.adapters.repository import CatalogRepository, LedgerRepository
from clearway.ledger.adapters.transaction_search import SEARCHABLE_COLUMNS
from clearway.ledger.domain.errors import InvalidRequest, LedgerError, NotFound
from clearway.ledger.domain.tenancy import Tenant, check_named_internal, sees_any
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.entrypoints.dependencies import Pipeline, Pool, ReaderTenant, WriterTenant
from clearway.ledger.entrypoints.render import balance_state_json, json_answer, transaction_json
from clearway.ledger.entrypoints.schemas import BulkTransactions, InflightUpdate, SearchBody, TransactionCreate
from clearway.ledger.service.commands import amount_in_minor, build_transfer_request
from clearway.ledger.service.posting.operations import CommitHold, Refund, Transfer, VoidHold
from clearway.platform.ids import new_id

router = APIRouter(tags=["ledger: transactions"])
CREATED_AT_RANGE = re.compile(r"^created_at:\[(?P<start>[^.\]]+)\.\.\.?(?P<end>[^\]]+)\]$")


@router.post("/transactions", status_code=status.HTTP_201_CREATED)
async def create_transaction(body: TransactionCreate, pipeline: Pipeline, tenant: WriterTenant) -> Response:
    request = build_transfer_request(**body.transfer_fields())
    _check_internal(request, tenant)
    result = await pipeline.submit(Transfer(request, tenant))
    record = result.unwrap()
    if result.replayed:
        return json_answer(transaction_json(record), status.HTTP_200_OK, {"Idempotent-Replayed": "true"})
    return json_answer(transaction_json(record), status.HTTP_201_CREATED)


@router.put("/transactions/inflight/{transaction_id}")
async def update_inflight(
    transaction_id: str, body: InflightUpdate, pipeline: Pipeline, pool: Pool, tenant: WriterTenant
) -> Any:
    amount_minor = None
    if body.amount is not None or body.precise_amount is not None:
        async with pool.acquire() as connection:
            target = await LedgerRepository(connection).get_transaction(transaction_id, tenant.workspace_id)
        if target is None:
            raise NotFound(f"transaction {transaction_id} not found")
        amount_minor = amount_in_minor(
            amount=body.amount,
            precise_amount=body.precise_amount,
            precision=target.precision,
            currency_precision_value=target.precision,
            field="amount",
        )
    settle: CommitHold | VoidHold
    if body.status == "void":  # an amount is Clearway's partial void (Blnk voids all that is held)
        settle = VoidHold(transaction_id, reference=body.reference, tenant=tenant, amount_minor=amount_minor)
    else:
        settle = CommitHold(transaction_id, amount_minor=amount_minor, reference=body.reference, tenant=tenant)
    result = await pipeline.submit(settle)
    return transaction_json(result.unwrap())


async def _refund(transaction_id: str, pipeline: Pipeline, tenant: Tenant) -> Any:
    result = await pipeline.submit(Refund(transaction_id, tenant=tenant))
    return transaction_json(result.unwrap())


@router.post("/refund-transaction/{transaction_id}", status_code=status.HTTP_201_CREATED)
async def refund_transaction(transaction_id: str, pipeline: Pipeline, tenant: WriterTenant) -> Any:
    return await _refund(transaction_id, pipeline, tenant)


@router.post("/transactions/refund-transaction/{transaction_id}", status_code=status.HTTP_201_CREATED)
async def refund_transaction_seed_path(transaction_id: str, pipeline: Pipeline, tenant: WriterTenant) -> Any:
    return await _refund(transaction_id, pipeline, tenant)


@router.post("/transactions/bulk", status_code=status.HTTP_201_CREATED)
async def bulk_transactions(body: BulkTransactions, pipeline: Pipeline, tenant: WriterTenant) -> Response:
    requests = []
    for index, item in enumerate(body.transactions):
        fields = item.transfer_fields()
        fields["inflight"] = fields["inflight"] or body.inflight
        try:
            request = build_transfer_request(**fields)
            _check_internal(request, tenant)
            requests.append(request)
        except LedgerError as error:
            error.extra["index"] = index
            raise
    if len({request.reference for request in requests}) != len(requests):
        raise InvalidRequest("references in a bulk request must be unique")
    if body.include_balances and not body.atomic:
        raise InvalidRequest("include_balances needs atomic: true (one transaction, one consistent view)")
    operations = [Transfer(request, tenant) for request in requests]
    balances: list[dict[str, Any]] | None = None
    if body.include_balances:
        run = await pipeline.run_atomic(operations)
        results = run.results
        balances = [
            balance_state_json(state)
            for balance_id, state in run.balances.items()
            if sees_any(tenant, (balance_id,), run.owners)
        ]
    else:
        results = await pipeline.run_now(operations, atomic=body.atomic)
    batch_id = new_id("bulk")
    failures = [
        {
            "index": index,
            "reference": requests[index].reference,
            "code": result.error.code,
            "detail": result.error.detail,
        }
        if result.error
        else {
            "index": index,
            "reference": requests[index].reference,
            "code": "REJECTED",
            "detail": result.record.rejection_reason if result.record else None,
        }
        for index, result in enumerate(results)
        if result.refused
    ]
    with_balances = {} if balances is None else {"balances": balances}
    if body.atomic and failures:
        raise LedgerError(
            f"atomic bulk refused: {len(failures)} of {len(requests)} transactions failed; nothing was applied",
            failures=failures[:100],
            **with_balances,
        )
    document = {
        "batch_id": batch_id,
        "status": "applied",
        "transaction_count": len(requests),
        "failed_count": len(failures),
        "failures": failures[:100],
        "transactions": [transaction_json(result.record) if result.record else None for result in results],
        **with_balances,
    }
    return json_answer(document, status.HTTP_201_CREATED)


@router.get("/transactions/{transaction_id}")
async def get_transaction(transaction_id: str, pool: Pool, tenant: ReaderTenant) -> Any:
    async with pool.acquire() as connection:
        record = await LedgerRepository(connection).get_transaction(transaction_id, tenant.workspace_id)
    if record is None:
        raise NotFound(f"transaction {transaction_id} not found")
    return transaction_json(record)


@router.get("/transactions/reference/{reference}")
async def get_transaction_by_reference(reference: str, pool: Pool, tenant: ReaderTenant) -> Any:
    async with pool.acquire() as connection:
        record = await LedgerRepository(connection).get_transaction_by_reference(reference, tenant.workspace_id)
    if record is None:
        raise NotFound(f"no transaction with reference {reference}")
    return transaction_json(record)


@router.get("/transactions")
async def list_transactions(
    pool: Pool,
    tenant: ReaderTenant,
    status_filter: str | None = Query(default=None, alias="status"),
    source: str | None = None,
    destination: str | None = None,
    reference: str | None = None,
    currency: str | None = None,
    parent_transaction: str | None = None,
    limit: int = Query(default=20, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[dict[str, Any]]:
    filters = {
        name: value
        for name, value in (
            ("status", status_filter),
            ("source", source),
            ("destination", destination),
            ("reference", reference),
            ("currency", currency),
            ("parent_transaction", parent_transaction),
        )
        if value
    }
    async with pool.acquire() as connection:
        _total, records = await CatalogRepository(connection).search_transactions(
            text_query=None,
            query_by=(),
            created_from=None,
            created_to=None,
            filters=filters,
            sort_column="created_at",
            descending=True,
            limit=limit,
            offset=offset,
            workspace_id=tenant.workspace_id,
        )
    return [transaction_json(record) for record in records]


@router.post("/search/transactions")
async def search_transactions(body: SearchBody, pool: Pool, tenant: ReaderTenant) -> dict[str, Any]:
    query_by = [column.strip() for column in (body.query_by or "").split(",") if column.strip()]
    unknown = set(query_by) - SEARCHABLE_COLUMNS
    if unknown:
        raise InvalidRequest(f"cannot query by {sorted(unknown)}; searchable: {sorted(SEARCHABLE_COLUMNS)}")
    created_from, created_to, filters = _parse_filter(body.filter_by)
    sort_column, descending = _parse_sort(body.sort_by)
    async with pool.acquire() as connection:
        total, records = await CatalogRepository(connection).search_transactions(
            text_query=body.q,
            query_by=query_by,
            created_from=created_from,
            created_to=created_to,
            filters=filters,
            sort_column=sort_column,
            descending=descending,
            limit=body.per_page,
            offset=(body.page - 1) * body.per_page,
            workspace_id=tenant.workspace_id,
        )
    return {
        "found": total,
        "out_of": total,
        "page": body.page,
        "hits": [{"document": transaction_json(record)} for record in records],
    }


def _check_internal(request: TransferRequest, tenant: Tenant) -> None:
    """Refuse internal balances the caller may not move before the batch would create them
    (the batch checks every resolved balance again; this only spares the side effect)."""
    debits = {request.source} | {item.identifier for item in request.sources}
    credits = {request.destination} | {item.identifier for item in request.destinations}
    check_named_internal(tenant, (name for name in debits if name), (name for name in credits if name))


def _parse_time(text: str) -> datetime:
    text = text.strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text)).astimezone()
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidRequest(f"cannot read {text!r} as a time (RFC 3339 or unix seconds)") from error


def _parse_filter(filter_by: str | None) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    created_from = created_to = None
    filters: dict[str, str] = {}
    for clause in (part.strip() for part in (filter_by or "").split("&&")):
        if not clause:
            continue
        match = CREATED_AT_RANGE.match(clause.replace(" ", ""))
        if match:
            created_from, created_to = _parse_time(match["start"]), _parse_time(match["end"])
            continue
        name, separator, value = clause.partition(":")
        name, value = name.strip(), value.strip().lstrip("=")
        if not separator or name not in SEARCHABLE_COLUMNS or not value:
            raise InvalidRequest(
                f"unsupported filter {clause!r}: use created_at:[start...end] or <field>:<value> "
                f"with field in {sorted(SEARCHABLE_COLUMNS)}"
            )
        filters[name] = value
    return created_from, created_to, filters


def _parse_sort(sort_by: str | None) -> tuple[str, bool]:
    if not sort_by:
        return "created_at", True
    column, _, direction = sort_by.partition(":")
    column = {"amount": "amount_minor", "precise_amount": "amount_minor"}.get(column.strip(), column.strip())
    if column not in {"created_at", "amount_minor", "effective_date"} or direction.strip() not in {"", "asc", "desc"}:
        raise InvalidRequest(f"unsupported sort {sort_by!r}: use created_at|amount|effective_date with :asc or :desc")
    return column, direction.strip() != "asc"
