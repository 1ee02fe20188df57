"""Reading the ledger's FRAGMENT-style answers (`render_entries.py`, `ledger_json`) into values,
and writing entry bodies. Pure: the HTTP client (`http_client`) does the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clearway.platform.ledger.values import (
    CLEARING_STATUSES,
    ENTRY_STATUSES,
    LedgerAccount,
    LedgerAnswerInvalidError,
    LedgerRef,
    SchemaEntry,
)


def _object(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise TypeError(f"{type(document).__name__}, not a JSON object")
    return document


def _text(document: dict[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} is not a non-empty string")
    return value


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _integer(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} is not an integer")
    return value


def _flag(flags: dict[str, Any], name: str) -> bool:
    value = flags.get(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"flags.{name} is not a boolean")
    return value


def ledger_ref(document: Any) -> LedgerRef:
    try:
        document = _object(document)
        return LedgerRef(
            ledger_id=_text(document, "ledger_id"), name=_text(document, "name"), ik=_optional_text(document, "ik")
        )
    except (KeyError, TypeError) as error:
        raise LedgerAnswerInvalidError(f"unreadable ledger: {error!r}") from error


def schema_entry(document: Any, *, replayed: bool = False) -> SchemaEntry:
    try:
        document = _object(document)
        lines = document["lines"]
        if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
            raise TypeError("lines is not a list of objects")
        amount = document.get("amount_minor")
        entry = SchemaEntry(
            ik=_text(document, "ik"),
            type=_text(document, "type"),
            status=_text(document, "status"),
            transaction_id=_optional_text(document, "transaction_id"),
            lines=tuple(dict(line) for line in lines),
            replayed=replayed,
            entry_id=_optional_text(document, "id"),
            amount_minor=None if amount is None else _integer(amount, "amount_minor"),
            currency=_optional_text(document, "currency"),
            reversed_by=_optional_text(document, "reversed_by"),
            external_transaction_id=_optional_text(document, "external_transaction_id"),
        )
    except (KeyError, TypeError) as error:
        raise LedgerAnswerInvalidError(f"unreadable schema entry: {error!r}") from error
    if entry.status not in ENTRY_STATUSES:
        raise LedgerAnswerInvalidError(f"unknown entry status {entry.status[:32]!r}")
    return entry


def ledger_account(document: Any) -> LedgerAccount:
    try:
        document = _object(document)
        flags = _object(document.get("flags") or {})
        account = LedgerAccount(
            path=_text(document, "path"),
            type=_text(document, "type"),
            currency=_optional_text(document, "currency"),
            own_balance_minor=_integer(document["own_balance_minor"], "own_balance_minor"),
            clearing_status=_optional_text(document, "clearing_status"),
            linked=_flag(flags, "linked"),
            clearing=_flag(flags, "clearing"),
            template=_flag(flags, "template"),
            account_id=_optional_text(document, "id"),
            ledger_id=_optional_text(document, "ledger_id"),
        )
    except (KeyError, TypeError) as error:
        raise LedgerAnswerInvalidError(f"unreadable ledger account: {error!r}") from error
    if account.clearing_status is not None and account.clearing_status not in CLEARING_STATUSES:
        raise LedgerAnswerInvalidError(f"unknown clearing status {account.clearing_status[:32]!r}")
    return account


def entry_body(
    *, type: str, ik: str, parameters: Mapping[str, str | int], currency: str | None, description: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type, "ik": ik, "parameters": dict(parameters), "description": description}
    if currency is not None:
        body["currency"] = currency
    return body
