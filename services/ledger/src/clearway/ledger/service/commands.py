"""Step 2 of the posting path, command parsing: what an entrypoint received, as what posting runs.

A Blnk-style HTTP body (`entrypoints/http_transactions.py`) or a `ledger.transaction.requested`
command (`entrypoints/consumers.py`) becomes a `TransferRequest` in minor units, validated, with
nothing looked up; a `ledger.entry.requested` command becomes an `EntryRequest`. Posting the
result is step 3 (`service/posting/`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from clearway.contracts.events.commands import LedgerEntryRequested, LedgerTransactionRequested
from clearway.ledger.domain.amounts import check_positive, precise_to_minor, scale_exact, to_decimal
from clearway.ledger.domain.distribution import Distribution
from clearway.ledger.domain.entry_rules import ExternalTransaction, entry_fingerprint, split_entry_type
from clearway.ledger.domain.errors import InvalidRequest
from clearway.ledger.domain.transactions import TransferRequest
from clearway.platform.errors import ProblemError
from clearway.platform.money import currency_exponent

REFERENCE_LENGTH_MAX = 255


@dataclass(frozen=True)
class EntryRequest:
    ledger_id: str
    entry_type: str  # "split_bulk_payment", or "bulk_split.split_bulk_payment" to pick the schema
    ik: str
    parameters: Mapping[str, str]
    description: str = ""
    currency: str | None = None  # default line currency; else parameters["currency"], else the external's
    external_transaction: ExternalTransaction | None = None

    @property
    def currency_default(self) -> str | None:
        if self.currency is not None:
            return self.currency
        if "currency" in self.parameters:
            return self.parameters["currency"]
        return self.external_transaction.currency if self.external_transaction is not None else None

    def fingerprint(self) -> str:
        return entry_fingerprint(
            ledger_id=self.ledger_id,
            entry_type=split_entry_type(self.entry_type)[1],
            parameters=self.parameters,
            currency=self.currency_default,
            external_transaction_id=self.external_transaction.id if self.external_transaction else None,
        )


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


def transfer_from_command(command: LedgerTransactionRequested) -> TransferRequest:
    precision = command.precision or currency_precision(command.currency)
    precise_amount = command.precise_amount if command.precise_amount is not None else command.amount_minor
    overdraft_limit = None
    if command.overdraft_limit is not None:
        overdraft_limit = Decimal(command.overdraft_limit) / Decimal(precision)
    return build_transfer_request(
        reference=command.reference,
        currency=command.currency,
        precise_amount=precise_amount,
        precision=precision,
        source=command.source,
        destination=command.destination,
        sources=[item.model_dump() for item in command.sources] if command.sources else None,
        destinations=[item.model_dump() for item in command.destinations] if command.destinations else None,
        allow_overdraft=command.allow_overdraft,
        overdraft_limit=overdraft_limit,
        inflight=command.inflight,
        inflight_expiry_date=command.inflight_expires_at,
        description=command.description,
        meta_data=dict(command.meta_data),
    )


def entry_request_from_command(command: LedgerEntryRequested) -> EntryRequest:
    """`ledger.entry.requested` carries no currency field: lines whose account has none take
    `parameters["currency"]`; it has no external transaction, so it can never reconcile."""
    return EntryRequest(
        ledger_id=command.ledger_id,
        entry_type=command.entry_type,
        ik=command.ik,
        parameters=dict(command.parameters),
        description=command.description or "",
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
