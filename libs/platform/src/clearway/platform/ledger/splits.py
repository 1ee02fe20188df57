"""Split postings (seed 002 step 11, Blnk's `destinations`): one source paying several balances in
ONE ledger transaction, each leg a fixed amount, so either every leg moves or none does.

Each leg's `distribution` is a fixed amount in the transaction's units (major units at its
`precision`), exact for minor amounts; the legs add up to the amount. Posted once per reference:
the same split again is a replay of the first answer.

Mixed into `HttpLedgerClient`, whose `_answer` sends the requests and retries what is transient.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clearway.platform.ledger.answers import document_of, transaction_of
from clearway.platform.ledger.credit_lines import REPLAYED_HEADER
from clearway.platform.ledger.values import LedgerTransaction
from clearway.platform.money import currency_exponent

if TYPE_CHECKING:
    import httpx

# Blnk bounds the legs of one split; a repayment has at most a handful.
SPLIT_LEGS_MAX = 20


def distribution_text(amount_minor: int, precision: int) -> str:
    """`amount_minor` as the ledger's fixed distribution (major units, exact): 250000 at 100 -> '2500.00'."""
    assert amount_minor > 0 and precision >= 1, (amount_minor, precision)
    exponent = len(str(precision)) - 1
    return str((Decimal(amount_minor) / Decimal(precision)).quantize(Decimal(1).scaleb(-exponent)))


class SplitCalls:
    async def _answer(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError  # HttpLedgerClient's

    async def post_split(
        self,
        *,
        reference: str,
        currency: str,
        source: str,
        destinations: Sequence[tuple[str, int]],
        allow_overdraft: bool = True,
        description: str = "",
        meta_data: dict[str, Any] | None = None,
    ) -> LedgerTransaction:
        """Post `source` -> each `(balance, amount_minor)` of `destinations` as one transaction."""
        assert 1 <= len(destinations) <= SPLIT_LEGS_MAX, len(destinations)
        assert all(amount > 0 for _, amount in destinations), "each leg moves a positive amount"
        identifiers = [identifier for identifier, _ in destinations]
        assert len(set(identifiers)) == len(identifiers) and source not in identifiers, "legs are distinct balances"
        precision = 10 ** currency_exponent(currency)
        body = {
            "precise_amount": sum(amount for _, amount in destinations),
            "precision": precision,
            "currency": currency,
            "reference": reference,
            "source": source,
            "destinations": [
                {"identifier": identifier, "distribution": distribution_text(amount, precision)}
                for identifier, amount in destinations
            ],
            "allow_overdraft": allow_overdraft,
            "description": description,
            "meta_data": meta_data or {},
        }
        response = await self._answer("POST", "/transactions", json=body)
        return transaction_of(document_of(response), replayed=response.headers.get(REPLAYED_HEADER) == "true")
