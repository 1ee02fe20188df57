"""Money is an integer count of minor units plus an ISO 4217 code; floats never touch it.

Exponents (how many minor units make a major one: USD 2, JPY 0, KWD 3) come from the `iso4217`
package, which tracks the published ISO table, rather than from a hand-kept list.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Annotated

from iso4217 import Currency
from pydantic import AfterValidator, Field, StringConstraints

# The one maximum and the one set of amount types (see contracts' primitives), re-exported for
# services that import money from here.
from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX as AMOUNT_MINOR_MAX
from clearway.contracts.events.primitives import AmountMinor as AmountMinor
from clearway.contracts.events.primitives import PositiveAmountMinor as PositiveAmountMinor
from clearway.contracts.events.primitives import SignedAmountMinor as SignedAmountMinor
from clearway.platform.errors import BadRequest

DECIMAL_STRING_LENGTH_MAX = 40
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_DECIMAL_STRING = re.compile(r"^-?\d+(\.\d+)?$")


@lru_cache(maxsize=512)
def _exponent_or_none(code: str) -> int | None:
    if not _CURRENCY_CODE.fullmatch(code):
        return None
    try:
        currency = Currency(code)
    except ValueError:
        return None
    exponent = currency.exponent
    # Codes without minor units (XAU gold, XTS testing) cannot be counted in minor units.
    return exponent if isinstance(exponent, int) else None


def is_known_currency(code: str) -> bool:
    return _exponent_or_none(code) is not None


def currency_exponent(code: str) -> int:
    exponent = _exponent_or_none(code)
    if exponent is None:
        raise BadRequest(
            f"{code!r} is not an ISO 4217 currency with minor units.",
            code="UNKNOWN_CURRENCY",
            extra={"currency": code[:8]},
        )
    assert 0 <= exponent <= 4, f"unexpected ISO 4217 exponent {exponent} for {code}"
    return exponent


def to_minor(amount: str | Decimal, currency: str) -> int:
    """`to_minor("12.34", "USD") == 1234`. Refuses amounts finer than the currency's minor unit."""
    assert not isinstance(amount, float), "money must never be a float"
    exponent = currency_exponent(currency)
    text = amount if isinstance(amount, str) else format(amount, "f")
    if len(text) > DECIMAL_STRING_LENGTH_MAX or not _DECIMAL_STRING.fullmatch(text):
        raise BadRequest(f"{text[:DECIMAL_STRING_LENGTH_MAX]!r} is not a decimal amount.", code="INVALID_AMOUNT")
    with localcontext() as context:
        context.prec = DECIMAL_STRING_LENGTH_MAX + 8
        try:
            scaled = Decimal(text).scaleb(exponent)
        except InvalidOperation as error:
            raise BadRequest(f"{text!r} is not a decimal amount.", code="INVALID_AMOUNT") from error
        if scaled != scaled.to_integral_value():
            raise BadRequest(
                f"{text} has more decimal places than {currency} allows ({exponent}).", code="INVALID_AMOUNT"
            )
        minor = int(scaled)
    if abs(minor) > AMOUNT_MINOR_MAX:
        raise BadRequest(f"{text} {currency} is too large.", code="INVALID_AMOUNT")
    return minor


def format_minor(amount_minor: int, currency: str) -> str:
    """`format_minor(1234, "USD") == "12.34"`, `format_minor(-5, "USD") == "-0.05"`, JPY has no point."""
    assert isinstance(amount_minor, int) and not isinstance(amount_minor, bool), "amount_minor must be an int"
    exponent = currency_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    digits = str(abs(amount_minor))
    if exponent == 0:
        return sign + digits
    digits = digits.rjust(exponent + 1, "0")
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


def format_amount(amount_minor: int, currency: str) -> str:
    """As documents print it: `format_amount(1234, "USD") == "12.34 USD"`."""
    return f"{format_minor(amount_minor, currency)} {currency}"


def _known_currency(code: str) -> str:
    if not is_known_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency with minor units")
    return code


CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$", strict=True),
    AfterValidator(_known_currency),
    Field(description="ISO 4217 alphabetic code, upper case", examples=["USD"]),
]
"""A known ISO 4217 code with minor units, exactly three upper-case letters (`"usd"` is refused)."""
