"""The ledger's JSON answers read into values, shared by the client and its mixins."""

from __future__ import annotations

from typing import Any

import httpx

from clearway.platform.ledger.values import (
    TRANSACTION_STATUSES,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerTransaction,
)


def document_of(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError as error:
        raise LedgerAnswerInvalidError(f"{response.status_code} answer is not JSON") from error
    if not isinstance(document, dict):
        raise LedgerAnswerInvalidError(f"{response.status_code} answer is not a JSON object")
    return document


def balance_of(document: dict[str, Any]) -> LedgerBalance:
    try:
        return LedgerBalance(
            balance_id=str(document["balance_id"]),
            balance_minor=int(document["balance"]),
            inflight_debit_minor=int(document["inflight_debit_balance"]),
            currency=str(document["currency"]),
            inflight_credit_minor=int(document.get("inflight_credit_balance") or 0),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerAnswerInvalidError(f"unreadable balance: {error!r}") from error


def transaction_of(document: Any, *, replayed: bool = False) -> LedgerTransaction:
    try:
        if not isinstance(document, dict):
            raise TypeError(f"{type(document).__name__}, not a JSON object")
        amount = document.get("precise_amount")
        transaction = LedgerTransaction(
            transaction_id=str(document["transaction_id"]),
            reference=str(document["reference"]),
            status=str(document["status"]),
            rejection_reason=document.get("rejection_reason") or None,
            replayed=replayed,
            parent_transaction_id=str(document.get("parent_transaction") or "") or None,
            amount_minor=None if amount is None else int(amount),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerAnswerInvalidError(f"unreadable transaction: {error!r}") from error
    if transaction.status not in TRANSACTION_STATUSES:
        raise LedgerAnswerInvalidError(f"unknown transaction status {transaction.status[:32]!r}")
    return transaction
