"""Clearway-style JSON for schemas, entries and accounts (not Blnk's shapes: these are our own APIs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from clearway.ledger.domain.schema import LedgerSchema, clearing_status, natural_balance


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def schema_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "ledger_id": row["ledger_id"],
        "key": row["key"],
        "version": row["version"],
        "created_at": _time(row["created_at"]),
        "schema": row["document"],
    }


def shipped_json(schema: LedgerSchema) -> dict[str, Any]:
    return {
        "key": schema.key,
        "version": schema.version,
        "entry_types": [spec.type for spec in schema.entry_types],
    }


def entry_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["entry_id"],
        "ledger_id": row["ledger_id"],
        "ik": row["ik"],
        "type": row["entry_type"],
        "schema": {"key": row["schema_key"], "version": row["schema_version"]},
        "status": "reversed" if row["reversed_by"] is not None else "posted",
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "parameters": row["parameters"],
        "description": row["description"],
        "lines": row["lines"],
        "transaction_id": row["transaction_id"],
        "reversed_by": row["reversed_by"],
        "external_transaction_id": row["external_transaction_id"],
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def account_json(row: asyncpg.Record) -> dict[str, Any]:
    """One schema account (a balance with a path); `own_balance_minor` is in its natural sign."""
    own_balance_minor = natural_balance(
        row["account_type"], credit_minor_total=row["credit_balance"], debit_minor_total=row["debit_balance"]
    )
    return {
        "id": row["balance_id"],
        "ledger_id": row["ledger_id"],
        "path": row["account_path"],
        "type": row["account_type"],
        "flags": {
            "linked": row["is_linked"],
            "clearing": row["is_clearing"],
            "template": ":" in row["account_path"],
        },
        "currency": row["currency"],
        "own_balance_minor": own_balance_minor,
        "clearing_status": clearing_status(own_balance_minor) if row["is_clearing"] else None,
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }
