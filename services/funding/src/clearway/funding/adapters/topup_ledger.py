"""The ledger calls a top-up makes, over HTTP with a service credential.

Retries (tenacity, bounded, exponential backoff) cover network errors and 5xx only. They are
safe: the wallet lookup is get-or-create by indicator, and every credit carries a deterministic
reference, so the ledger answers a repeat with the original transaction (200, replayed).
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from clearway.funding.service.topup_ports import LedgerRefused, LedgerUnavailable, WalletCredit, WalletOwnerUnknown
from clearway.platform.logging import get_logger

APPLIED = "APPLIED"
logger = get_logger("clearway.funding.topup_ledger")


class _RetryableLedgerError(Exception):
    pass


def wallet_indicator(identity_id: str) -> str:
    return f"wallet:{identity_id}"


class HttpTopupLedger:
    """Implements `WalletLedger`. Owns its httpx client: call `aclose()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_ms: int = 5_000,
        retry_attempts_max: int = 4,
        retry_backoff_ms: int = 100,
        retry_backoff_max_ms: int = 2_000,
    ) -> None:
        assert 1 <= retry_attempts_max <= 10
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_ms / 1000, transport=transport
        )
        self._retry_attempts_max = retry_attempts_max
        self._retry_backoff_ms = retry_backoff_ms
        self._retry_backoff_max_ms = retry_backoff_max_ms

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry_attempts_max),
            wait=wait_exponential(multiplier=self._retry_backoff_ms / 1000, max=self._retry_backoff_max_ms / 1000),
            retry=retry_if_exception(lambda error: isinstance(error, _RetryableLedgerError)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self._http.post(path, json=body)
                    except httpx.TransportError as error:
                        raise _RetryableLedgerError(f"ledger unreachable: {type(error).__name__}") from error
                    if response.status_code >= 500:
                        raise _RetryableLedgerError(f"ledger answered {response.status_code}")
                    return response
        except _RetryableLedgerError as error:
            raise LedgerUnavailable(str(error)) from error
        raise AssertionError("tenacity either returns or re-raises")  # pragma: no cover

    async def ensure_wallet(self, identity_id: str, currency: str) -> str:
        body = {"indicator": wallet_indicator(identity_id), "identity_id": identity_id, "currency": currency}
        response = await self._post("/balances", body)
        if response.status_code in (200, 201):
            balance_id: str = response.json()["balance_id"]
            return balance_id
        problem = _problem(response)
        if response.status_code == 404 and problem.get("field") == "identity_id":
            raise WalletOwnerUnknown(f"The ledger has no identity {identity_id}.")
        raise LedgerRefused(f"ledger refused the wallet lookup: {response.status_code} {problem.get('code')}")

    async def credit_wallet(self, credit: WalletCredit) -> str:
        body = {
            "reference": credit.reference,
            "precise_amount": credit.amount_minor,  # minor units: precision defaults to the currency's
            "currency": credit.currency,
            "source": credit.source,
            "destination": credit.destination_balance_id,
            # The source is the provider's collection balance: it goes negative by what was collected.
            "allow_overdraft": True,
            "description": credit.description,
            "meta_data": dict(credit.meta_data),
        }
        response = await self._post("/transactions", body)
        if response.status_code not in (200, 201):
            problem = _problem(response)
            raise LedgerRefused(f"ledger refused {credit.reference}: {response.status_code} {problem.get('code')}")
        transaction = response.json()
        if transaction.get("status") != APPLIED:
            raise LedgerRefused(f"ledger did not apply {credit.reference}: {transaction.get('status')}")
        logger.info(
            "wallet credited",
            reference=credit.reference,
            transaction_id=transaction["transaction_id"],
            replayed=response.headers.get("Idempotent-Replayed") == "true",
        )
        transaction_id: str = transaction["transaction_id"]
        return transaction_id


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
