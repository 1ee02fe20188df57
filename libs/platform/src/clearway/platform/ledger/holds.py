"""The ledger's holds as a check reads them: inflight transactions a page at a time, newest first,
and what one of them still holds.

A hold keeps the status INFLIGHT after it is committed or voided (those are its child transactions,
APPLIED or VOID), so `GET /transactions?status=INFLIGHT` lists every hold ever placed, and what a
hold still holds is its amount less its children's.

Mixed into `HttpLedgerClient`, whose `_answer` sends the requests and retries what is transient.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clearway.platform.ledger.values import APPLIED, INFLIGHT, VOID, LedgerAnswerInvalidError, LedgerHold

if TYPE_CHECKING:
    import httpx

# The ledger answers at most this many transactions per `GET /transactions`.
TRANSACTIONS_PAGE_MAX = 100
# A hold is committed in a few parts at most; more settlements than this are not summed.
HOLD_SETTLEMENT_PAGES_MAX = 10


class HoldQueries:
    async def _answer(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError  # HttpLedgerClient's

    async def inflight_holds(self, *, limit: int = TRANSACTIONS_PAGE_MAX, offset: int = 0) -> list[LedgerHold]:
        """One page of holds, newest first. The ledger only adds holds, so a page further on may
        repeat a hold of the page before, but a walk by offset never skips one."""
        assert 1 <= limit <= TRANSACTIONS_PAGE_MAX and offset >= 0, (limit, offset)
        params: dict[str, str | int] = {"status": INFLIGHT, "limit": limit, "offset": offset}
        documents = await self._transactions(params, limit)
        return [ledger_hold(document) for document in documents]

    async def hold_remaining_minor(self, hold: LedgerHold) -> int:
        """What `hold` still holds: its amount less what its commits and voids settled."""
        settled_minor = 0
        for page in range(HOLD_SETTLEMENT_PAGES_MAX):
            params: dict[str, str | int] = {
                "parent_transaction": hold.transaction_id,
                "limit": TRANSACTIONS_PAGE_MAX,
                "offset": page * TRANSACTIONS_PAGE_MAX,
            }
            documents = await self._transactions(params, TRANSACTIONS_PAGE_MAX)
            settled_minor += sum(_settled_minor(hold, document) for document in documents)
            if settled_minor > hold.amount_minor:
                raise LedgerAnswerInvalidError(f"hold {hold.transaction_id} settled more than it held")
            if len(documents) < TRANSACTIONS_PAGE_MAX or settled_minor == hold.amount_minor:
                return hold.amount_minor - settled_minor
        raise LedgerAnswerInvalidError(f"hold {hold.transaction_id} has more settlements than are summed")

    async def _transactions(self, params: dict[str, str | int], limit: int) -> list[Any]:
        response = await self._answer("GET", "/transactions", params=params)
        try:
            documents = response.json()
        except ValueError as error:
            raise LedgerAnswerInvalidError("transaction list is not JSON") from error
        if not isinstance(documents, list) or len(documents) > limit:
            raise LedgerAnswerInvalidError(f"transaction list is not a list of at most {limit}")
        return documents


def ledger_hold(document: Any) -> LedgerHold:
    try:
        if not isinstance(document, dict):
            raise TypeError(f"{type(document).__name__}, not a JSON object")
        hold = LedgerHold(
            transaction_id=str(document["transaction_id"]),
            reference=str(document["reference"]),
            amount_minor=int(document["precise_amount"]),
            currency=str(document["currency"]),
            source=_side(document, "source", "sources"),
            destination=_side(document, "destination", "destinations"),
            created_at=datetime.fromisoformat(str(document["created_at"])),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerAnswerInvalidError(f"unreadable hold: {error!r}") from error
    if document.get("status") != INFLIGHT or hold.amount_minor <= 0 or hold.created_at.tzinfo is None:
        raise LedgerAnswerInvalidError(f"{hold.transaction_id} is not an inflight hold with an amount and a time")
    return hold


def _side(document: dict[str, Any], name: str, split_name: str) -> str:
    """The balance of one side; a split (`source` empty) names its legs' balances."""
    if document.get(name):
        return str(document[name])
    return ",".join(str(leg["balance_id"]) for leg in document.get(split_name) or [])


def _settled_minor(hold: LedgerHold, document: Any) -> int:
    """What one child of `hold` settled: a commit (APPLIED) or a void (VOID)."""
    if not isinstance(document, dict) or document.get("parent_transaction") != hold.transaction_id:
        raise LedgerAnswerInvalidError(f"a listed child of {hold.transaction_id} is not its child")
    if document.get("status") not in (APPLIED, VOID):
        return 0
    amount = document.get("precise_amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerAnswerInvalidError(f"a settlement of {hold.transaction_id} has no positive amount")
    return amount
