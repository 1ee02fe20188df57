"""Postings applied all or none in one ledger round trip, answered with the balances they left.

For a caller that decides on what a posting leaves: a card authorization places its hold and its
markup fee together (no fee without the hold) and answers with the available credit the hold left,
in one request to `POST /transactions/bulk` with `atomic` and Clearway's `include_balances`.

Mixed into `HttpLedgerClient`, whose `_request` sends the requests and retries what is transient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from clearway.platform.ledger.answers import balance_of, document_of, transaction_of
from clearway.platform.ledger.bodies import overdraft_posting_body, posting_body
from clearway.platform.ledger.values import (
    AtomicPosting,
    BulkFailure,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerRefusedError,
    LedgerTransaction,
    Posting,
)

if TYPE_CHECKING:
    import httpx

# The ledger's code for a request refused as a whole (an atomic bulk with a failure among its postings).
BULK_REFUSED_STATUS = 422


class AtomicCalls:
    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError  # HttpLedgerClient's

    async def post_atomic(
        self, postings: Sequence[Posting], *, overdraft_limits_minor: Mapping[str, int] | None = None
    ) -> AtomicPosting:
        """Apply every one of `postings` or none; `overdraft_limits_minor` by reference, for holds on a
        credit line. Asking again after an applied answer replays it. Raises `LedgerRefusedError` for
        a request the ledger refuses before posting anything (unknown balance, validation)."""
        assert postings and len({posting.reference for posting in postings}) == len(postings)
        limits = overdraft_limits_minor or {}
        assert set(limits) <= {posting.reference for posting in postings}
        bodies = [
            overdraft_posting_body(posting, limits[posting.reference])
            if posting.reference in limits
            else posting_body(posting)
            for posting in postings
        ]
        body = {"transactions": bodies, "atomic": True, "include_balances": True}
        response = await self._request("POST", "/transactions/bulk", json=body)
        if response.status_code in (200, 201):
            return _applied(postings, document_of(response))
        document = _json_object(response)
        if response.status_code == BULK_REFUSED_STATUS and isinstance(document.get("failures"), list):
            return _refused(document)
        raise LedgerRefusedError(
            response.status_code,
            str(document.get("code") or response.status_code),
            str(document.get("detail") or response.text[:200]),
        )


def _applied(postings: Sequence[Posting], document: dict[str, Any]) -> AtomicPosting:
    documents = document.get("transactions")
    if not isinstance(documents, list) or len(documents) != len(postings):
        raise LedgerAnswerInvalidError(f"atomic answer has no slot for each of the {len(postings)} postings")
    transactions: list[LedgerTransaction] = []
    for posting, answer in zip(postings, documents, strict=True):
        if not isinstance(answer, dict):
            raise LedgerAnswerInvalidError(f"atomic answer for {posting.reference} is not a transaction")
        transaction = transaction_of(answer, replayed=False)
        if transaction.reference != posting.reference:
            raise LedgerAnswerInvalidError(f"atomic answer slot is not {posting.reference}")
        transactions.append(transaction)
    return AtomicPosting(tuple(transactions), (), _balances(document))


def _refused(document: dict[str, Any]) -> AtomicPosting:
    try:
        failures = tuple(
            BulkFailure(
                int(item["index"]), str(item["code"]), None if item.get("detail") is None else str(item["detail"])
            )
            for item in document["failures"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerAnswerInvalidError(f"unreadable atomic refusal: {error!r}") from error
    if not failures:
        raise LedgerAnswerInvalidError("an atomic refusal names no failure")
    return AtomicPosting((), failures, _balances(document))


def _balances(document: dict[str, Any]) -> dict[str, LedgerBalance]:
    listed = document.get("balances")
    if not isinstance(listed, list):
        raise LedgerAnswerInvalidError("atomic answer lists no balances")
    balances = [balance_of(item) if isinstance(item, dict) else balance_of({}) for item in listed]
    return {balance.balance_id: balance for balance in balances}


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
