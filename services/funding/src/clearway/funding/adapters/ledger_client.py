"""The ledger over HTTP, with a service credential.

Retries only what is safe to retry: network errors and 5xx answers. Every write carries a
deterministic reference (or an Idempotency-Key), so a retried request that did reach the ledger
is answered as a replay and never moves money twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from clearway.funding.domain.postings import Posting, wallet_indicator
from clearway.funding.service.ports import (
    REFUSED,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRefusedError,
    LedgerTransaction,
    LedgerUnavailableError,
)
from clearway.platform.retry import BackoffPolicy

logger = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
# Postings per bulk request. The ledger accepts more, but names at most 100 failures per answer:
# with this bound every refused posting comes back with its reason.
BULK_POSTINGS_MAX = 100


class _TransientError(Exception):
    pass


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, _TransientError)


def ledger_request_backoff(attempts_max: int) -> BackoffPolicy:
    """50 ms doubling to 2 s, plus up to 1 s of jitter: many workers retrying after one ledger
    hiccup spread out instead of arriving together."""
    return BackoffPolicy(attempts_max=attempts_max, initial_ms=50, maximum_ms=2_000, jitter_ms=1_000)


def _balance(document: dict[str, Any]) -> LedgerBalance:
    return LedgerBalance(
        balance_id=str(document["balance_id"]),
        balance_minor=int(document["balance"]),
        inflight_debit_minor=int(document["inflight_debit_balance"]),
        currency=str(document["currency"]),
    )


def _transaction(response: httpx.Response) -> LedgerTransaction:
    return _transaction_of(response.json(), replayed=response.headers.get(REPLAYED_HEADER) == "true")


def _transaction_of(document: dict[str, Any], *, replayed: bool = False) -> LedgerTransaction:
    return LedgerTransaction(
        transaction_id=str(document["transaction_id"]),
        reference=str(document["reference"]),
        status=str(document["status"]),
        rejection_reason=document.get("rejection_reason"),
        replayed=replayed,
    )


def _posting_body(posting: Posting) -> dict[str, Any]:
    return {
        "precise_amount": posting.amount_minor,
        "currency": posting.currency,
        "reference": posting.reference,
        "source": posting.source,
        "destination": posting.destination,
        "allow_overdraft": posting.allow_overdraft,
        "inflight": posting.inflight,
        "description": posting.description,
        "meta_data": posting.meta_data,
    }


def _bulk_results(postings: Sequence[Posting], document: dict[str, Any]) -> list[LedgerTransaction]:
    """One result per posting from a non-atomic bulk answer: the transaction the ledger recorded
    (a replay answers with the original one), or REFUSED with the failure's code and detail."""
    documents = document["transactions"]
    if len(documents) != len(postings):
        raise LedgerAnswerInvalidError(f"bulk answer has {len(documents)} slots for {len(postings)} postings")
    failures = {int(failure["index"]): failure for failure in document.get("failures", [])}
    results: list[LedgerTransaction] = []
    for index, (posting, transaction) in enumerate(zip(postings, documents, strict=True)):
        if transaction is not None:
            if transaction["reference"] != posting.reference:
                raise LedgerAnswerInvalidError(f"bulk answer slot {index} is not {posting.reference}")
            results.append(_transaction_of(transaction))
            continue
        failure = failures.get(index, {})
        reason = f"{failure.get('code', 'UNKNOWN')}: {failure.get('detail')}"
        results.append(
            LedgerTransaction(transaction_id="", reference=posting.reference, status=REFUSED, rejection_reason=reason)
        )
    return results


class HttpLedgerClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_ms: int,
        attempts_max: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        assert attempts_max >= 1 and timeout_ms > 0
        headers = {"X-API-Key": api_key} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_ms / 1000, transport=transport
        )
        self._request_backoff = ledger_request_backoff(attempts_max)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            async for attempt in self._request_backoff.retrying(retry_if=_is_transient):
                with attempt:
                    try:
                        response = await self._client.request(method, path, **kwargs)
                    except httpx.TransportError as error:
                        raise _TransientError(repr(error)) from error
                    if response.status_code >= 500 or _in_progress_elsewhere(response):
                        raise _TransientError(f"{response.status_code}: {response.text[:200]}")
                    return response
        except _TransientError as error:
            raise LedgerUnavailableError(f"{method} {path}: {error}") from error
        raise AssertionError("unreachable: tenacity either returned or raised")

    @staticmethod
    def _refused(response: httpx.Response) -> LedgerRefusedError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = str(body.get("code") or response.status_code) if isinstance(body, dict) else str(response.status_code)
        detail = str(body.get("detail") or response.text[:200]) if isinstance(body, dict) else response.text[:200]
        return LedgerRefusedError(response.status_code, code, detail)

    async def identity_exists(self, identity_id: str) -> bool:
        response = await self._request("GET", f"/identities/{quote(identity_id, safe='')}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self._refused(response)
        return True

    async def create_identity(self, *, idempotency_key: str, name: str, meta_data: dict[str, str]) -> str:
        response = await self._request(
            "POST",
            "/identities",
            json={"identity_type": "organization", "organization_name": name, "meta_data": meta_data},
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code not in (200, 201):
            raise self._refused(response)
        return str(response.json()["identity_id"])

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        response = await self._request(
            "POST",
            "/balances",
            json={"indicator": wallet_indicator(identity_id), "identity_id": identity_id, "currency": currency},
        )
        if response.status_code not in (200, 201):
            raise self._refused(response)
        return _balance(response.json())

    async def find_wallet(self, identity_id: str, currency: str) -> LedgerBalance | None:
        indicator = quote(wallet_indicator(identity_id), safe="")
        response = await self._request("GET", f"/balances/indicator/{indicator}/currency/{currency}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._refused(response)
        return _balance(response.json())

    async def post(self, posting: Posting) -> LedgerTransaction:
        response = await self._request("POST", "/transactions", json=_posting_body(posting))
        if response.status_code not in (200, 201):
            raise self._refused(response)
        return _transaction(response)

    async def post_many(self, postings: Sequence[Posting]) -> list[LedgerTransaction]:
        assert len({posting.reference for posting in postings}) == len(postings), "references are unique"
        results: list[LedgerTransaction] = []
        for start in range(0, len(postings), BULK_POSTINGS_MAX):
            chunk = postings[start : start + BULK_POSTINGS_MAX]
            # Not atomic: each posting stands alone, and a retry replays the ones already applied.
            body = {"transactions": [_posting_body(posting) for posting in chunk], "atomic": False}
            response = await self._request("POST", "/transactions/bulk", json=body)
            if response.status_code not in (200, 201):
                raise self._refused(response)
            results.extend(_bulk_results(chunk, response.json()))
        assert len(results) == len(postings)
        return results

    async def commit_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction:
        return await self._update_hold(transaction_id, "commit", reference)

    async def void_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction:
        return await self._update_hold(transaction_id, "void", reference)

    async def _update_hold(self, transaction_id: str, action: str, reference: str) -> LedgerTransaction:
        response = await self._request(
            "PUT",
            f"/transactions/inflight/{quote(transaction_id, safe='')}",
            json={"status": action, "reference": reference},
        )
        if response.status_code not in (200, 201):
            raise self._refused(response)
        return _transaction(response)


def _in_progress_elsewhere(response: httpx.Response) -> bool:
    """Another request with the same Idempotency-Key is running (two of our own workers raced,
    e.g. a link and the recovery loop creating one workspace identity): wait, then get its answer."""
    if response.status_code != 409:
        return False
    try:
        return bool(response.json().get("code") == "IDEMPOTENCY_REQUEST_IN_PROGRESS")
    except ValueError:
        return False
