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

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from clearway.platform.ledger.answers import balance_of, document_of, transaction_of
from clearway.platform.ledger.bodies import overdraft_posting_body
from clearway.platform.ledger.values import (
    LedgerBalance,
    LedgerRefusedError,
    LedgerTransaction,
    Posting,
)

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
        return transaction_of(document_of(response), replayed=False)

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
        body = overdraft_posting_body(posting, overdraft_limit_minor)
        response = await self._answer("POST", "/transactions", json=body)
        return transaction_of(document_of(response), replayed=response.headers.get(REPLAYED_HEADER) == "true")
