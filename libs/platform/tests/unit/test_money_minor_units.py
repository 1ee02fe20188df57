from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from pydantic import BaseModel, ValidationError

from clearway.platform.errors import BadRequest
from clearway.platform.money import (
    AMOUNT_MINOR_MAX,
    AmountMinor,
    CurrencyCode,
    PositiveAmountMinor,
    currency_exponent,
    format_minor,
    is_known_currency,
    to_minor,
)


class Payment(BaseModel):
    amount_minor: PositiveAmountMinor
    fee_minor: AmountMinor = 0
    currency: CurrencyCode


def test_exponents_come_from_iso4217() -> None:
    assert currency_exponent("USD") == 2
    assert currency_exponent("KES") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3


@pytest.mark.parametrize("code", ["ZZZ", "usd", "US", "XAU", ""])
def test_unknown_or_unit_less_currency_is_a_400_problem(code: str) -> None:
    with pytest.raises(BadRequest) as raised:
        currency_exponent(code)
    assert raised.value.status == 400
    assert raised.value.code == "UNKNOWN_CURRENCY"
    assert not is_known_currency(code)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("12.3", "USD", 1230),
        ("12", "USD", 1200),
        ("12.340", "USD", 1234),
        ("0.05", "USD", 5),
        ("-0.05", "USD", -5),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        (Decimal("99.99"), "EUR", 9999),
        ("1000000000000000.00", "USD", AMOUNT_MINOR_MAX),
    ],
)
def test_to_minor(amount: str | Decimal, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize("amount", ["12.345", "1e3", "12.", ".5", "1,000", " 1", "abc", "1000000000000000.01"])
def test_to_minor_refuses_malformed_or_too_fine_amounts(amount: str) -> None:
    with pytest.raises(BadRequest) as raised:
        to_minor(amount, "USD")
    assert raised.value.code == "INVALID_AMOUNT"


def test_to_minor_refuses_floats() -> None:
    with pytest.raises(AssertionError):
        to_minor(cast(Any, 12.5), "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "USD", "12.34"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "USD", "0.00"),
        (500, "JPY", "500"),
        (1, "KWD", "0.001"),
    ],
)
def test_format_minor(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text
    assert to_minor(text, currency) == minor


def test_pydantic_types_accept_integers_and_known_codes() -> None:
    payment = Payment.model_validate_json('{"amount_minor": 1500, "currency": "KES"}')
    assert (payment.amount_minor, payment.fee_minor, payment.currency) == (1500, 0, "KES")


@pytest.mark.parametrize(
    "body",
    [
        '{"amount_minor": 15.0, "currency": "KES"}',
        '{"amount_minor": "1500", "currency": "KES"}',
        '{"amount_minor": 0, "currency": "KES"}',
        '{"amount_minor": 1, "fee_minor": -1, "currency": "KES"}',
        '{"amount_minor": 9223372036854775808, "currency": "KES"}',
        '{"amount_minor": 1, "currency": "kes"}',
        '{"amount_minor": 1, "currency": "ZZZ"}',
        '{"amount_minor": 1, "currency": "XAU"}',
    ],
)
def test_pydantic_types_refuse_floats_strings_and_unknown_codes(body: str) -> None:
    with pytest.raises(ValidationError):
        Payment.model_validate_json(body)


def test_format_amount_is_the_figure_then_its_currency() -> None:
    from clearway.platform.money import format_amount

    assert (format_amount(1234, "USD"), format_amount(-5, "KES"), format_amount(1500, "JPY")) == (
        "12.34 USD",
        "-0.05 KES",
        "1500 JPY",
    )
