"""From a Blnk-style transaction body to a `TransferRequest` in minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clearway.ledger.domain.amounts import check_positive, precise_to_minor, scale_exact, to_decimal
from clearway.ledger.domain.distribution import Distribution
from clearway.ledger.domain.errors import InvalidRequest
from clearway.ledger.domain.transactions import TransferRequest
from clearway.platform.errors import ProblemError
from clearway.platform.money import currency_exponent

REFERENCE_LENGTH_MAX = 255


def currency_precision(currency: str) -> int:
    try:
        return int(10 ** currency_exponent(currency))
    except ProblemError as error:
        raise InvalidRequest(f"unknown currency {currency!r}: use an ISO 4217 code", field="currency") from error


def amount_in_minor(
    *, amount: Any, precise_amount: int | None, precision: int | None, currency_precision_value: int, field: str
) -> int:
    """`precise_amount`/`precision` wins when given; else `amount` (major units) x precision."""
    transaction_precision = precision or currency_precision_value
    if precise_amount is not None:
        return precise_to_minor(precise_amount, transaction_precision, currency_precision_value, field)
    if amount is None:
        raise InvalidRequest(f"{field} is required (or precise_amount)", field=field)
    precise = scale_exact(to_decimal(amount, field), transaction_precision, field)
    return precise_to_minor(precise, transaction_precision, currency_precision_value, field)


def build_transfer_request(
    *,
    reference: str,
    currency: str,
    amount: Any = None,
    precise_amount: int | None = None,
    precision: int | None = None,
    source: str | None = None,
    destination: str | None = None,
    sources: list[dict[str, str]] | None = None,
    destinations: list[dict[str, str]] | None = None,
    allow_overdraft: bool = False,
    overdraft_limit: Any = None,
    inflight: bool = False,
    inflight_expiry_date: datetime | None = None,
    scheduled_for: datetime | None = None,
    effective_date: datetime | None = None,
    description: str | None = None,
    meta_data: dict[str, Any] | None = None,
) -> TransferRequest:
    reference = (reference or "").strip()
    if not reference or len(reference) > REFERENCE_LENGTH_MAX:
        raise InvalidRequest("reference is required (1-255 characters): it makes retries safe", field="reference")
    currency = currency.upper()
    per_currency = currency_precision(currency)
    amount_minor = check_positive(
        amount_in_minor(
            amount=amount,
            precise_amount=precise_amount,
            precision=precision,
            currency_precision_value=per_currency,
            field="amount",
        ),
        "amount",
    )
    if bool(source) == bool(sources):
        raise InvalidRequest("give exactly one of source or sources", field="source")
    if bool(destination) == bool(destinations):
        raise InvalidRequest("give exactly one of destination or destinations", field="destination")
    if sources and destinations:
        raise InvalidRequest("a transaction may split its sources or its destinations, not both")
    overdraft_limit_minor = None
    if overdraft_limit not in (None, 0):
        overdraft_limit_minor = amount_in_minor(
            amount=overdraft_limit,
            precise_amount=None,
            precision=precision,
            currency_precision_value=per_currency,
            field="overdraft_limit",
        )
        if overdraft_limit_minor < 0:
            raise InvalidRequest("overdraft_limit cannot be negative", field="overdraft_limit")
    for moment, name in ((inflight_expiry_date, "inflight_expiry_date"), (scheduled_for, "scheduled_for")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidRequest(f"{name} needs a timezone (RFC 3339)", field=name)
    return TransferRequest(
        reference=reference,
        currency=currency,
        amount_minor=amount_minor,
        currency_precision=per_currency,
        source=source,
        destination=destination,
        sources=_distributions(sources),
        destinations=_distributions(destinations),
        allow_overdraft=allow_overdraft,
        overdraft_limit_minor=overdraft_limit_minor,
        inflight=inflight,
        inflight_expiry_date=inflight_expiry_date,
        scheduled_for=scheduled_for,
        effective_date=effective_date,
        description=description or "",
        meta_data=meta_data or {},
    )


def _distributions(items: list[dict[str, str]] | None) -> tuple[Distribution, ...]:
    result = []
    for item in items or []:
        identifier = str(item.get("identifier") or "").strip()
        distribution = str(item.get("distribution") or "").strip()
        if not identifier or not distribution:
            raise InvalidRequest("each distribution needs an identifier and a distribution")
        result.append(Distribution(identifier, distribution))
    return tuple(result)
