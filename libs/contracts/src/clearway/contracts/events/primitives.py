"""Field types and the base model every message body shares.

Why `extra="ignore"` and not `extra="forbid"`: topics evolve additively (a producer may add an
optional field at any time, see ARCHITECTURE "Versioning"). A consumer still running the previous
model must keep accepting those messages; with `forbid` every message carrying the new field would
fail validation and end up in the dead-letter topic until every consumer had been redeployed.
Producers are held to the schema by the committed JSON Schemas and the compatibility test instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, Strict, StringConstraints

CURRENCY_PATTERN = r"^[A-Z]{3}$"
# The one largest amount of a single movement, for every service and contract. Amounts land in
# PostgreSQL BIGINT columns, and balances are sums of them: at 10^17 (a quadrillion dollars in
# cents) 92 maximal movements still fit in a BIGINT, where 2^63 - 1 would overflow on the second.
AMOUNT_MINOR_MAX = 10**17

CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_PATTERN),
    Field(description="ISO 4217 alphabetic currency code, three uppercase letters (e.g. USD)."),
]

# The one set of amount types, for contracts and every service's HTTP models (`clearway.platform.money`
# re-exports them). Strict: money never arrives as "2000" or 2000.0; a processor sending either is
# refused, not coerced. Bounded by AMOUNT_MINOR_MAX, so an accepted amount always fits the ledger.
AmountMinor = Annotated[
    int,
    Strict(),
    Field(
        ge=0, le=AMOUNT_MINOR_MAX, description="Non-negative amount as an integer count of the currency's minor units."
    ),
]

PositiveAmountMinor = Annotated[
    int,
    Strict(),
    Field(gt=0, le=AMOUNT_MINOR_MAX, description="Positive amount as an integer count of the currency's minor units."),
]

SignedAmountMinor = Annotated[
    int,
    Strict(),
    Field(
        ge=-AMOUNT_MINOR_MAX,
        le=AMOUNT_MINOR_MAX,
        description="Signed amount as an integer count of the currency's minor units.",
    ),
]

# An RFC 3339 timestamp with an explicit offset; naive datetimes are refused.
Timestamp = AwareDatetime


class ContractModel(BaseModel):
    """Base of every event and command body: immutable, tolerant of unknown fields (see module doc)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def with_examples(*examples: dict[str, JsonValue]) -> ConfigDict:
    """Model config that publishes example bodies in the JSON Schema (and so in AsyncAPI documents).

    Pydantic merges a subclass's config with its parent's, so `extra`/`frozen` still apply.
    """
    assert examples, "with_examples needs at least one example body"
    return ConfigDict(json_schema_extra={"examples": list(examples)})
