"""The JSON a posting is sent as, plain or with an overdraft limit: one shape for every call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clearway.platform.ledger.values import Posting
from clearway.platform.money import currency_exponent


def posting_body(posting: Posting) -> dict[str, Any]:
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


def overdraft_posting_body(posting: Posting, overdraft_limit_minor: int) -> dict[str, Any]:
    """`posting` letting its source overdraw to `-overdraft_limit_minor` (a credit line's hold)."""
    assert posting.allow_overdraft, "an overdraft limit only means something on an overdraft posting"
    # The ledger reads a limit of 0 as "no limit": a zero credit line must never reach it.
    assert overdraft_limit_minor > 0, "the overdraft limit is a positive amount"
    precision = 10 ** currency_exponent(posting.currency)
    return {
        **posting_body(posting),
        "precision": precision,
        # Blnk's field is in major units at the transaction's precision; exact for any credit
        # line below 2**53 minor units.
        "overdraft_limit": float(Decimal(overdraft_limit_minor) / Decimal(precision)),
    }
