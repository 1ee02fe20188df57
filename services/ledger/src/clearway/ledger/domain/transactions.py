"""Commands the ledger accepts and the transaction record it keeps.

`TransferRequest` is a Blnk `POST /transactions` body after validation and unit conversion;
`TransactionRecord` is one immutable row of the transactions table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from clearway.ledger.domain.distribution import Distribution, Leg
from clearway.ledger.domain.posting import Status

INTERNAL_BALANCE_PREFIX = "@"
# `json.dumps(document, sort_keys=True)` builds an encoder per call; this one gives the same text
# (stored request hashes must not change: a replay compares against them).
_FINGERPRINT_ENCODER = json.JSONEncoder(sort_keys=True)


def is_internal_identifier(identifier: str) -> bool:
    return identifier.startswith(INTERNAL_BALANCE_PREFIX)


@dataclass(frozen=True)
class TransferRequest:
    reference: str
    currency: str
    amount_minor: int
    currency_precision: int
    source: str | None = None
    destination: str | None = None
    sources: tuple[Distribution, ...] = ()
    destinations: tuple[Distribution, ...] = ()
    allow_overdraft: bool = False
    overdraft_limit_minor: int | None = None
    inflight: bool = False
    inflight_expiry_date: datetime | None = None
    scheduled_for: datetime | None = None
    effective_date: datetime | None = None
    description: str = ""
    meta_data: dict[str, Any] = field(default_factory=dict)
    # Pre-resolved legs (schema entries post through here with balance ids already known).
    debit_legs: tuple[Leg, ...] = ()
    credit_legs: tuple[Leg, ...] = ()

    def identifiers(self) -> set[str]:
        named = {self.source, self.destination} - {None}
        named |= {item.identifier for item in (*self.sources, *self.destinations)}
        named |= {leg.identifier for leg in (*self.debit_legs, *self.credit_legs)}
        return {identifier for identifier in named if identifier}

    def fingerprint(self) -> str:
        """What makes two requests with one reference "the same": their money-relevant content."""
        if not (self.sources or self.destinations or self.debit_legs or self.credit_legs) and self._plain_scalars():
            return hashlib.sha256(self._one_to_one_fingerprint_text().encode()).hexdigest()
        document = {
            "currency": self.currency,
            "amount_minor": self.amount_minor,
            "source": self.source,
            "destination": self.destination,
            "sources": [(item.identifier, item.distribution) for item in self.sources],
            "destinations": [(item.identifier, item.distribution) for item in self.destinations],
            "debit_legs": [(leg.identifier, leg.amount_minor) for leg in self.debit_legs],
            "credit_legs": [(leg.identifier, leg.amount_minor) for leg in self.credit_legs],
            "allow_overdraft": self.allow_overdraft,
            "overdraft_limit_minor": self.overdraft_limit_minor,
            "inflight": self.inflight,
        }
        return hashlib.sha256(_FINGERPRINT_ENCODER.encode(document).encode()).hexdigest()

    def _plain_scalars(self) -> bool:
        """The types the direct text is written for (what `build_transfer_request` makes); anything
        else (a bool amount, a truthy flag that is not a bool) goes through the encoder as before."""
        return (
            type(self.amount_minor) is int
            and type(self.allow_overdraft) is bool
            and type(self.inflight) is bool
            and (self.overdraft_limit_minor is None or type(self.overdraft_limit_minor) is int)
            and type(self.currency) is str
            and (self.source is None or type(self.source) is str)
            and (self.destination is None or type(self.destination) is str)
        )

    def _one_to_one_fingerprint_text(self) -> str:
        """The encoder's text for a one-source, one-destination request (every Kafka command and most
        HTTP transfers), written directly: the encoder's walk was a tenth of a bulk transfer's CPU.
        Same keys in the same sorted order, same separators and escaping (a property test holds it
        to the encoder)."""
        return (
            f'{{"allow_overdraft": {_json_bool(self.allow_overdraft)}, "amount_minor": {int.__repr__(self.amount_minor)}, '
            f'"credit_legs": [], "currency": {_json_text(self.currency)}, "debit_legs": [], '
            f'"destination": {_json_text(self.destination)}, "destinations": [], "inflight": {_json_bool(self.inflight)}, '
            f'"overdraft_limit_minor": {_json_int(self.overdraft_limit_minor)}, "source": {_json_text(self.source)}, '
            '"sources": []}'
        )


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _json_int(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


@dataclass(frozen=True)
class TransactionRecord:
    transaction_id: str
    reference: str
    status: Status
    currency: str
    amount_minor: int
    precision: int
    request_hash: str
    created_at: datetime
    effective_date: datetime
    parent_transaction: str | None = None
    source: str | None = None
    destination: str | None = None
    # Resolved legs: [{"identifier", "balance_id", "distribution", "amount_minor"}]
    sources: list[dict[str, Any]] | None = None
    destinations: list[dict[str, Any]] | None = None
    allow_overdraft: bool = False
    overdraft_limit_minor: int | None = None
    inflight: bool = False
    inflight_expiry_date: datetime | None = None
    scheduled_for: datetime | None = None
    description: str = ""
    meta_data: dict[str, Any] = field(default_factory=dict)
    rejection_reason: str | None = None

    def debit_legs(self) -> tuple[Leg, ...]:
        return tuple(Leg(item["balance_id"], int(item["amount_minor"])) for item in self.sources or [])

    def credit_legs(self) -> tuple[Leg, ...]:
        return tuple(Leg(item["balance_id"], int(item["amount_minor"])) for item in self.destinations or [])
