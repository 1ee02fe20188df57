"""Blnk's JSON shapes for ledgers, identities, balances and transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson
from fastapi import Response

from clearway.ledger.domain.amounts import minor_to_major
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.transactions import TransactionRecord

ZERO_TIME = "0001-01-01T00:00:00Z"
IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "other_names",
    "gender",
    "dob",
    "email_address",
    "phone_number",
    "nationality",
    "organization_name",
    "category",
    "street",
    "country",
    "state",
    "post_code",
    "city",
)


def json_answer(document: Any, status_code: int, headers: dict[str, str] | None = None) -> Response:
    """A hot route's answer encoded once, by orjson: returned as is, FastAPI skips its own pass
    (`jsonable_encoder` over the whole document, then `json.dumps`), which was a visible share of a
    bulk request's CPU. The documents here are plain JSON values (meta_data is bounded to 64-bit ints)."""
    return Response(orjson.dumps(document), status_code=status_code, headers=headers, media_type="application/json")


def _time(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ZERO_TIME


def ledger_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "ledger_id": row["ledger_id"],
        "name": row["name"],
        "ik": row["ik"],
        "created_at": _time(row["created_at"]),
        "meta_data": row["meta_data"],
    }


def identity_json(row: asyncpg.Record) -> dict[str, Any]:
    attributes = row["attributes"]
    return {
        "identity_id": row["identity_id"],
        "identity_type": row["identity_type"] or "",
        **{name: attributes.get(name, "") for name in IDENTITY_FIELDS},
        "created_at": _time(row["created_at"]),
        "meta_data": row["meta_data"],
    }


def balance_json(row: asyncpg.Record | dict[str, Any], totals: asyncpg.Record | None = None) -> dict[str, Any]:
    source: Any = totals if totals is not None else row
    credit, debit = source["credit_balance"], source["debit_balance"]
    inflight_credit, inflight_debit = source["inflight_credit_balance"], source["inflight_debit_balance"]
    document = {
        "balance_id": row["balance_id"],
        "balance": credit - debit,
        "credit_balance": credit,
        "debit_balance": debit,
        "inflight_balance": inflight_credit - inflight_debit,
        "inflight_credit_balance": inflight_credit,
        "inflight_debit_balance": inflight_debit,
        "currency": row["currency"],
        "precision": row["precision"],
        "currency_multiplier": row["precision"],
        "version": row["version"],
        "ledger_id": row["ledger_id"],
        "identity_id": row["identity_id"] or "",
        "indicator": row["indicator"] or "",
        "created_at": _time(row["created_at"]),
        "meta_data": row["meta_data"],
    }
    if row["account_path"]:
        document["account"] = {
            "path": row["account_path"],
            "type": row["account_type"],
            "linked": row["is_linked"],
            "clearing": row["is_clearing"],
        }
    return document


def balance_state_json(state: BalanceState) -> dict[str, Any]:
    """A balance's figures as a batch left them (no catalogue fields: the batch did not read them)."""
    return {
        "balance_id": state.balance_id,
        "currency": state.currency,
        "balance": state.balance,
        "credit_balance": state.credit_balance,
        "debit_balance": state.debit_balance,
        "inflight_balance": state.inflight_balance,
        "inflight_credit_balance": state.inflight_credit_balance,
        "inflight_debit_balance": state.inflight_debit_balance,
    }


def transaction_json(record: TransactionRecord) -> dict[str, Any]:
    split_sources = record.source is None
    split_destinations = record.destination is None
    document: dict[str, Any] = {
        "transaction_id": record.transaction_id,
        "parent_transaction": record.parent_transaction or "",
        "amount": minor_to_major(record.amount_minor, record.precision),
        "precise_amount": record.amount_minor,
        "precision": record.precision,
        "rate": 1,
        "currency": record.currency,
        "reference": record.reference,
        "description": record.description,
        "status": record.status.value,
        "allow_overdraft": record.allow_overdraft,
        "overdraft_limit": (
            minor_to_major(record.overdraft_limit_minor, record.precision)
            if record.overdraft_limit_minor is not None
            else 0
        ),
        "inflight": record.inflight,
        "inflight_expiry_date": _time(record.inflight_expiry_date),
        "scheduled_for": _time(record.scheduled_for),
        "effective_date": _time(record.effective_date),
        "created_at": _time(record.created_at),
        "meta_data": record.meta_data,
    }
    document["source"] = "" if split_sources else record.source
    document["destination"] = "" if split_destinations else record.destination
    if split_sources:
        document["sources"] = _distributions(record.sources, record.precision)
    if split_destinations:
        document["destinations"] = _distributions(record.destinations, record.precision)
    if record.rejection_reason:
        document["rejection_reason"] = record.rejection_reason
    return document


def _distributions(legs: list[dict[str, Any]] | None, precision: int) -> list[dict[str, Any]]:
    return [
        {
            "identifier": leg.get("identifier", leg["balance_id"]),
            "distribution": leg.get("distribution", str(minor_to_major(leg["amount_minor"], precision))),
            "balance_id": leg["balance_id"],
            "precise_amount": leg["amount_minor"],
        }
        for leg in legs or []
    ]
