"""Credit lines on the ledger (seed 002, Blnk style): an account's balances opened in its own ledger
for one identity, and holds that may overdraw their source down to a limit.

A card account's balances are found again by a deterministic indicator, so opening them twice
answers the balances the first call created. An overdraft hold carries `overdraft_limit` (the
ledger refuses a hold that would take the source below minus the limit: REJECTED, not an error);
its reference makes it a replay when asked for again, as long as the amount, the sides and the
limit are the same.

Mixed into `HttpLedgerClient`, whose `_answer` sends the requests and retries what is transient.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from clearway.platform.ledger.answers import balance_of, document_of
from clearway.platform.ledger.values import (
    TRANSACTION_STATUSES,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRefusedError,
    LedgerTransaction,
    Posting,
)
from clearway.platform.money import currency_exponent

if TYPE_CHECKING:
    import httpx

REPLAYED_HEADER = "Idempotent-Replayed"


class CreditLineCalls:
    async def _answer(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError  # HttpLedgerClient's

    async def find_transaction(self, reference: str) -> LedgerTransaction | None:
        raise NotImplementedError  # HttpLedgerClient's

    async def refund_transaction(self, reference: str, *, refund_reference: str) -> LedgerTransaction | None:
        """Seed 002's refund (`POST /transactions/refund-transaction/{id}`) of the transaction under
        `reference`, safe to repeat: the ledger records it under `refund_reference`
        (`<reference>:refund`) and refuses a second one (409), so asking again finds the first.
        None when there is no transaction under `reference`."""
        done = await self.find_transaction(refund_reference)
        if done is not None:
            return done
        original = await self.find_transaction(reference)
        if original is None:
            return None
        path = f"/transactions/refund-transaction/{quote(original.transaction_id, safe='')}"
        try:
            response = await self._answer("POST", path)
        except LedgerRefusedError:
            done = await self.find_transaction(refund_reference)  # refunded by a concurrent attempt
            if done is None:
                raise
            return done
        return credit_transaction(document_of(response), replayed=False)

    async def open_account_balance(
        self, *, ledger_id: str, identity_id: str, currency: str, indicator: str, meta_data: dict[str, Any]
    ) -> LedgerBalance:
        """Get-or-create the balance `indicator` in `currency`, in `ledger_id`, owned by `identity_id`."""
        body = {
            "ledger_id": ledger_id,
            "identity_id": identity_id,
            "currency": currency,
            "indicator": indicator,
            "meta_data": meta_data,
        }
        return balance_of(document_of(await self._answer("POST", "/balances", json=body)))

    async def post_with_overdraft_limit(self, posting: Posting, *, overdraft_limit_minor: int) -> LedgerTransaction:
        """Post `posting` (a hold when `inflight`) letting its source overdraw to `-overdraft_limit_minor`.

        The answer is INFLIGHT or APPLIED when the ledger accepted it, REJECTED when the limit does
        not cover it; the same posting and limit again is a replay of the first answer."""
        assert posting.allow_overdraft, "an overdraft limit only means something on an overdraft posting"
        # The ledger reads a limit of 0 as "no limit": a zero credit line must never reach it.
        assert overdraft_limit_minor > 0, "the overdraft limit is a positive amount"
        precision = 10 ** currency_exponent(posting.currency)
        body = {
            "precise_amount": posting.amount_minor,
            "precision": precision,
            "currency": posting.currency,
            "reference": posting.reference,
            "source": posting.source,
            "destination": posting.destination,
            "allow_overdraft": True,
            # Blnk's field is in major units at the transaction's precision; exact for any credit
            # line below 2**53 minor units.
            "overdraft_limit": float(Decimal(overdraft_limit_minor) / Decimal(precision)),
            "inflight": posting.inflight,
            "description": posting.description,
            "meta_data": posting.meta_data,
        }
        response = await self._answer("POST", "/transactions", json=body)
        return credit_transaction(document_of(response), replayed=response.headers.get(REPLAYED_HEADER) == "true")


def credit_transaction(document: dict[str, Any], *, replayed: bool) -> LedgerTransaction:
    try:
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
