"""The ledger over HTTP, with a service credential: the one client every service uses.

Retries only what is safe to retry: network errors, 5xx answers and a concurrent duplicate of our
own request. Every write carries a deterministic reference (or an Idempotency-Key), so a retried
request that did reach the ledger is answered as a replay and never moves money twice.

Holds: `post` of an inflight posting answers the hold (INFLIGHT). Committing or voiding it writes
a child transaction (APPLIED or VOID, `parent_transaction_id` = the hold) under the reference we
give; the hold itself stays INFLIGHT. After a crash, `find_transaction(hold_reference)` finds the
hold, and committing or voiding again with the same reference is a replay of the first answer.

Schema entries (FRAGMENT style, seed 003): ledgers created once per `ik`, shipped schemas installed
idempotently, entries posted, reconciled and reversed once per ik, and the schema accounts listed
with their clearing status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from clearway.platform.ledger.answers import balance_of as _balance
from clearway.platform.ledger.answers import document_of as _document
from clearway.platform.ledger.answers import transaction_of
from clearway.platform.ledger.atomic import AtomicCalls
from clearway.platform.ledger.bodies import posting_body
from clearway.platform.ledger.credit_lines import CreditLineCalls
from clearway.platform.ledger.holds import HoldQueries
from clearway.platform.ledger.schema_answers import entry_body, ledger_account, ledger_ref, schema_entry
from clearway.platform.ledger.splits import SplitCalls
from clearway.platform.ledger.values import (
    CLEARING_STATUSES,
    REFUSED,
    LedgerAccount,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRef,
    LedgerRefusedError,
    LedgerTransaction,
    LedgerUnavailableError,
    Posting,
    SchemaEntry,
    wallet_indicator,
)
from clearway.platform.retry import BackoffPolicy

REPLAYED_HEADER = "Idempotent-Replayed"
# Postings per bulk request. The ledger accepts more, but names at most 100 failures per answer:
# with this bound every refused posting comes back with its reason.
BULK_POSTINGS_MAX = 100
# The code of a request refused before it was sent: a value in its path holds a `/`.
UNADDRESSABLE = "UNADDRESSABLE"
# The ledger's refusal of a second reconciliation of one external transaction.
ALREADY_RECONCILED = "EXTERNAL_TRANSACTION_ALREADY_RECONCILED"
# `list_accounts` pages: the ledger answers at most this many accounts per request.
ACCOUNTS_PAGE_MAX = 100


class _TransientError(Exception):
    pass


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, _TransientError)


def ledger_request_backoff(attempts_max: int) -> BackoffPolicy:
    """50 ms doubling to 2 s, plus up to 1 s of jitter: many workers retrying after one ledger
    hiccup spread out instead of arriving together."""
    return BackoffPolicy(attempts_max=attempts_max, initial_ms=50, maximum_ms=2_000, jitter_ms=1_000)


def _segment(value: str) -> str:
    """One path segment. The ledger routes on the decoded path, so a value holding `/` would name
    another resource (or none): such a request is refused before it is sent."""
    if "/" in value:
        raise LedgerRefusedError(400, UNADDRESSABLE, f"{value[:64]!r} cannot be looked up by path")
    return quote(value, safe="")


def _transaction(response: httpx.Response) -> LedgerTransaction:
    return transaction_of(_document(response), replayed=response.headers.get(REPLAYED_HEADER) == "true")


def _entry_answer(response: httpx.Response) -> SchemaEntry:
    return schema_entry(_document(response), replayed=response.headers.get(REPLAYED_HEADER) == "true")


def _bulk_results(postings: Sequence[Posting], document: dict[str, Any]) -> list[LedgerTransaction]:
    """One result per posting from a non-atomic bulk answer: the transaction the ledger recorded
    (a replay answers with the original one), or REFUSED with the failure's code and detail."""
    documents = document.get("transactions")
    if not isinstance(documents, list) or len(documents) != len(postings):
        raise LedgerAnswerInvalidError(f"bulk answer has no slot for each of the {len(postings)} postings")
    try:
        failures = {int(failure["index"]): failure for failure in document.get("failures") or []}
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerAnswerInvalidError(f"unreadable bulk failures: {error!r}") from error
    results: list[LedgerTransaction] = []
    for index, (posting, transaction) in enumerate(zip(postings, documents, strict=True)):
        if transaction is not None:
            result = transaction_of(transaction)
            if result.reference != posting.reference:
                raise LedgerAnswerInvalidError(f"bulk answer slot {index} is not {posting.reference}")
            results.append(result)
            continue
        failure = failures.get(index, {})
        reason = f"{failure.get('code', 'UNKNOWN')}: {failure.get('detail')}"
        results.append(
            LedgerTransaction(transaction_id="", reference=posting.reference, status=REFUSED, rejection_reason=reason)
        )
    return results


class HttpLedgerClient(
    HoldQueries, CreditLineCalls, SplitCalls, AtomicCalls
):  # mixins in their own modules: this one is at its size bound
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

    async def _answer(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A 200/201 answer; any other is the ledger's refusal."""
        response = await self._request(method, path, **kwargs)
        if response.status_code not in (200, 201):
            raise _refused(response)
        return response

    async def _found(self, path: str) -> dict[str, Any] | None:
        """The JSON object at `path`, or None when the ledger has no such thing (404)."""
        response = await self._request("GET", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _refused(response)
        return _document(response)

    async def identity_exists(self, identity_id: str) -> bool:
        return await self._found(f"/identities/{_segment(identity_id)}") is not None

    async def create_identity(self, *, idempotency_key: str, name: str, meta_data: dict[str, str]) -> str:
        response = await self._answer(
            "POST",
            "/identities",
            json={"identity_type": "organization", "organization_name": name, "meta_data": meta_data},
            headers={"Idempotency-Key": idempotency_key},
        )
        identity_id = _document(response).get("identity_id")
        if not isinstance(identity_id, str) or not identity_id:
            raise LedgerAnswerInvalidError("identity answer has no identity_id")
        return identity_id

    async def ensure_balance(self, indicator: str, currency: str, identity_id: str | None = None) -> LedgerBalance:
        """Get-or-create the balance `indicator` in `currency` (owned by `identity_id`, if given)."""
        body = {"indicator": indicator, "currency": currency}
        if identity_id is not None:
            body["identity_id"] = identity_id
        return _balance(_document(await self._answer("POST", "/balances", json=body)))

    async def find_balance(self, indicator: str, currency: str) -> LedgerBalance | None:
        document = await self._found(f"/balances/indicator/{_segment(indicator)}/currency/{_segment(currency)}")
        return None if document is None else _balance(document)

    async def get_balance(self, balance_id: str) -> LedgerBalance | None:
        document = await self._found(f"/balances/{_segment(balance_id)}")
        return None if document is None else _balance(document)

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        """Get-or-create the `wallet:<identity_id>` balance in `currency`."""
        return await self.ensure_balance(wallet_indicator(identity_id), currency, identity_id)

    async def find_wallet(self, identity_id: str, currency: str) -> LedgerBalance | None:
        return await self.find_balance(wallet_indicator(identity_id), currency)

    async def post(self, posting: Posting) -> LedgerTransaction:
        """Post once per reference; the same posting again is a replay (`replayed`)."""
        return _transaction(await self._answer("POST", "/transactions", json=posting_body(posting)))

    async def post_many(self, postings: Sequence[Posting]) -> list[LedgerTransaction]:
        """Each posting once per reference, in as few requests as the ledger's bulk bound allows.

        One result per posting, in order; a posting already applied comes back APPLIED (a replay).
        A posting refused on its own comes back REJECTED or REFUSED; only a request refused as a
        whole raises `LedgerRefusedError`.
        """
        assert len({posting.reference for posting in postings}) == len(postings), "references are unique"
        results: list[LedgerTransaction] = []
        for start in range(0, len(postings), BULK_POSTINGS_MAX):
            chunk = postings[start : start + BULK_POSTINGS_MAX]
            # Not atomic: each posting stands alone, and a retry replays the ones already applied.
            body = {"transactions": [posting_body(posting) for posting in chunk], "atomic": False}
            response = await self._answer("POST", "/transactions/bulk", json=body)
            results.extend(_bulk_results(chunk, _document(response)))
        assert len(results) == len(postings)
        return results

    async def find_transaction(self, reference: str) -> LedgerTransaction | None:
        """The transaction recorded under `reference` (a hold, a posting, a commit or a void)."""
        document = await self._found(f"/transactions/reference/{_segment(reference)}")
        return None if document is None else transaction_of(document)

    async def get_transaction(self, transaction_id: str) -> LedgerTransaction | None:
        document = await self._found(f"/transactions/{_segment(transaction_id)}")
        return None if document is None else transaction_of(document)

    async def commit_hold(
        self, transaction_id: str, *, reference: str, amount_minor: int | None = None
    ) -> LedgerTransaction:
        """Commit a hold, in full or `amount_minor` of what it still holds; the answer is the commit
        (APPLIED, child of the hold). Raises `LedgerRefusedError` (409) when the hold is no longer open."""
        assert amount_minor is None or amount_minor > 0
        body: dict[str, Any] = {"status": "commit", "reference": reference}
        if amount_minor is not None:
            body["precise_amount"] = amount_minor
        return await self._update_hold(transaction_id, body)

    async def void_hold(
        self, transaction_id: str, *, reference: str, amount_minor: int | None = None
    ) -> LedgerTransaction:
        """Release what a hold still holds, or `amount_minor` of it (Clearway's partial void); the
        answer is the void (VOID, child of the hold). Raises `LedgerRefusedError` (409) when the hold
        is no longer open, (422 HOLD_AMOUNT_EXCEEDED) when it holds less than `amount_minor`."""
        assert amount_minor is None or amount_minor > 0
        body: dict[str, Any] = {"status": "void", "reference": reference}
        if amount_minor is not None:
            body["precise_amount"] = amount_minor
        return await self._update_hold(transaction_id, body)

    async def _update_hold(self, transaction_id: str, body: dict[str, Any]) -> LedgerTransaction:
        path = f"/transactions/inflight/{_segment(transaction_id)}"
        return _transaction(await self._answer("PUT", path, json=body))

    # ---- ledgers, schemas and schema entries (FRAGMENT style) --------------------------------

    async def create_ledger(
        self, name: str, *, ik: str | None = None, meta_data: dict[str, Any] | None = None
    ) -> LedgerRef:
        """Create a ledger; with an `ik`, once: a known ik answers the ledger it created."""
        body: dict[str, Any] = {"name": name, "meta_data": meta_data or {}}
        if ik is not None:
            body["ik"] = ik
        return ledger_ref(_document(await self._answer("POST", "/ledgers", json=body)))

    async def find_ledger_by_ik(self, ik: str) -> LedgerRef | None:
        response = await self._answer("GET", "/ledgers", params={"ik": ik})
        try:
            documents = response.json()
        except ValueError as error:
            raise LedgerAnswerInvalidError("ledger list is not JSON") from error
        if not isinstance(documents, list) or len(documents) > 1:
            raise LedgerAnswerInvalidError("a ledger ik names at most one ledger")
        if not documents:
            return None
        ledger = ledger_ref(documents[0])
        if ledger.ik != ik:
            raise LedgerAnswerInvalidError(f"asked for ledger ik {ik[:64]!r}, got {str(ledger.ik)[:64]!r}")
        return ledger

    async def get_ledger(self, ledger_id: str) -> LedgerRef | None:
        document = await self._found(f"/ledgers/{_segment(ledger_id)}")
        return None if document is None else ledger_ref(document)

    async def install_shipped_schema(self, ledger_id: str, key: str) -> None:
        """Install a schema file shipped with the ledger (its latest version); idempotent."""
        await self._answer("POST", f"/ledgers/{_segment(ledger_id)}/schema/shipped/{_segment(key)}")

    async def post_entry(
        self,
        ledger_id: str,
        *,
        type: str,
        ik: str,
        parameters: Mapping[str, str | int],
        currency: str | None = None,
        description: str = "",
    ) -> SchemaEntry:
        """Post an entry type once per ik (FRAGMENT `addLedgerEntry`); the same again is a replay."""
        body = entry_body(type=type, ik=ik, parameters=parameters, currency=currency, description=description)
        return _entry_answer(await self._answer("POST", f"/ledgers/{_segment(ledger_id)}/entries", json=body))

    async def reconcile(
        self,
        ledger_id: str,
        *,
        type: str,
        ik: str,
        parameters: Mapping[str, str | int],
        external_transaction: Mapping[str, Any],
        currency: str | None = None,
        description: str = "",
    ) -> SchemaEntry:
        """Post an entry that reconciles `external_transaction` (`{id, amount_minor, currency, ...}`,
        signed: money into the linked account is positive), once (FRAGMENT `reconcileTx`).

        A replay by the same ik answers the entry it posted (`replayed`), also when the ledger
        answers that the external transaction is already reconciled (two of our requests raced):
        it is ours if the entry with our ik reconciled it. Any other refusal raises `LedgerRefusedError`.
        """
        body = entry_body(type=type, ik=ik, parameters=parameters, currency=currency, description=description)
        body["external_transaction"] = dict(external_transaction)
        path = f"/ledgers/{_segment(ledger_id)}/reconcile"
        response = await self._request("POST", path, json=body)
        if response.status_code in (200, 201):
            return _entry_answer(response)
        refusal = _refused(response)
        if refusal.code == ALREADY_RECONCILED:
            existing = await self.get_entry(ledger_id, ik)
            if existing is not None and existing.external_transaction_id == str(external_transaction.get("id")):
                return dataclasses.replace(existing, replayed=True)
        raise refusal

    async def reverse_entry(self, ledger_id: str, ik: str) -> SchemaEntry:
        """Post the entry's lines with opposite amounts, once; the answer is the entry (status
        reversed), `replayed` when an earlier call reversed it. Entries that moved a linked account
        are refused (422): reconcile the bank's reversal with opposite amounts instead."""
        path = f"/ledgers/{_segment(ledger_id)}/entries/{_segment(ik)}/reverse"
        return _entry_answer(await self._answer("POST", path))

    async def get_entry(self, ledger_id: str, ik: str) -> SchemaEntry | None:
        document = await self._found(f"/ledgers/{_segment(ledger_id)}/entries/{_segment(ik)}")
        return None if document is None else schema_entry(document)

    async def list_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None = None,
        path: str | None = None,
        currency: str | None = None,
        limit: int = ACCOUNTS_PAGE_MAX,
        starting_after: str | None = None,
    ) -> tuple[list[LedgerAccount], bool]:
        """One page of the ledger's schema accounts and whether more follow. `path` matches FRAGMENT
        style (`liabilities/pending_withdrawals:*`); `clearing_status` keeps clearing accounts that
        are pending or cleared. The next page starts after the last account's `account_id`."""
        assert 1 <= limit <= ACCOUNTS_PAGE_MAX, f"page limit out of range: {limit}"
        assert clearing_status is None or clearing_status in CLEARING_STATUSES, clearing_status
        params: dict[str, str | int] = {"limit": limit}
        for name, value in (
            ("clearing_status", clearing_status),
            ("path", path),
            ("currency", currency),
            ("starting_after", starting_after),
        ):
            if value is not None:
                params[name] = value
        response = await self._answer("GET", f"/ledgers/{_segment(ledger_id)}/accounts", params=params)
        document = _document(response)
        data, has_more = document.get("data"), document.get("has_more")
        if not isinstance(data, list) or not isinstance(has_more, bool) or len(data) > limit:
            raise LedgerAnswerInvalidError("accounts answer has no data list and has_more flag")
        return [ledger_account(item) for item in data], has_more


def _refused(response: httpx.Response) -> LedgerRefusedError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or response.status_code)
    detail = str(body.get("detail") or response.text[:200])
    return LedgerRefusedError(response.status_code, code, detail)


def _in_progress_elsewhere(response: httpx.Response) -> bool:
    """Another request with the same Idempotency-Key is running (two of our own workers raced,
    e.g. a link and the recovery loop creating one workspace identity): wait, then get its answer."""
    if response.status_code != 409:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == "IDEMPOTENCY_REQUEST_IN_PROGRESS"
