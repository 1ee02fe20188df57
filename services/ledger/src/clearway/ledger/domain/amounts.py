"""Turning Blnk-style amounts (`amount` + `precision`, or `precise_amount`) into minor units.

The ledger keeps every balance in the ISO 4217 minor unit of its currency. A request may
state another precision; we convert exactly or refuse, never round.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX
from clearway.ledger.domain.errors import InvalidRequest, PrecisionLoss


def to_decimal(value: object, field_name: str) -> Decimal:
    """JSON numbers arrive as float; `repr` gives the shortest exact decimal text (321.12)."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{field_name} must be a number")
    try:
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise InvalidRequest(f"{field_name} is not a number: {value!r}") from error


def scale_exact(amount: Decimal, multiplier: int, field_name: str) -> int:
    scaled = amount * multiplier
    if scaled != scaled.to_integral_value():
        raise PrecisionLoss(
            f"{field_name} {amount} has more decimal places than precision {multiplier} allows",
            field=field_name,
        )
    return int(scaled)


def precise_to_minor(precise_amount: int, precision: int, currency_precision: int, field_name: str) -> int:
    """Re-express an amount counted in 1/`precision` units in 1/`currency_precision` units."""
    if precision <= 0:
        raise InvalidRequest("precision must be a positive integer")
    numerator = precise_amount * currency_precision
    if numerator % precision:
        raise PrecisionLoss(
            f"{field_name} {precise_amount}/{precision} cannot be expressed in the currency's minor unit",
            field=field_name,
        )
    return numerator // precision


def check_positive(amount_minor: int, field_name: str) -> int:
    if amount_minor <= 0:
        raise InvalidRequest(f"{field_name} must be greater than zero", field=field_name)
    if amount_minor > AMOUNT_MINOR_MAX:
        raise InvalidRequest(f"{field_name} is too large", field=field_name)
    return amount_minor


def minor_to_major(amount_minor: int, currency_precision: int) -> float | int:
    """Blnk's `amount` field: major units as a JSON number."""
    if amount_minor % currency_precision == 0:
        return amount_minor // currency_precision
    return float(Decimal(amount_minor) / Decimal(currency_precision))
