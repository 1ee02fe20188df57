"""Amount expressions: integers, parameters, + and -, unary minus, parentheses; never eval()."""

from __future__ import annotations

import pytest

from clearway.ledger.domain.schema import (
    ExpressionSyntaxError,
    InvalidParameter,
    MissingParameter,
    parse_amount,
)
from clearway.ledger.domain.schema.expression import EXPRESSION_LENGTH_MAX, NESTING_DEPTH_MAX


@pytest.mark.parametrize(
    ("text", "parameters", "expected"),
    [
        ("{{amount}}", {"amount": "1250"}, 1250),
        ("{{gross}} - {{fee}}", {"gross": "1000", "fee": "30"}, 970),
        ("-{{amount}}", {"amount": "5"}, -5),
        ("{{a}} + {{b}} - 100", {"a": "40", "b": "70"}, 10),
        ("-({{a}} + {{b}})", {"a": "1", "b": "2"}, -3),
        ("{{a}} - -{{b}}", {"a": "1", "b": "2"}, 3),
        ("{{a}}-{{b}}-{{c}}", {"a": "10", "b": "3", "c": "2"}, 5),  # left-associative
        ("{{a}} - ({{b}} - {{c}})", {"a": "10", "b": "3", "c": "2"}, 9),
        ("  42  ", {}, 42),
        ("{{amount}}", {"amount": "-7"}, -7),
        ("0", {}, 0),
        ("9223372036854775807", {}, 2**63 - 1),
    ],
)
def test_evaluates(text: str, parameters: dict[str, str], expected: int) -> None:
    assert parse_amount(text).evaluate(parameters) == expected


def test_reports_parameters_in_order_of_first_use() -> None:
    assert parse_amount("{{b}} + {{a}} - {{b}}").parameters == ("b", "a")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "{{amount}} *2",
        "{{amount}} / 2",
        "1.5",
        "1e3",
        "{{ amount }}",
        "{{amount}",
        "{{1amount}}",
        "{{}}",
        "({{a}}",
        "{{a}})",
        "{{a}} {{b}}",
        "{{a}} +",
        "+{{a}}",
        "__import__('os')",
        "1" * 25,
        "-" * (NESTING_DEPTH_MAX + 2) + "1",
        "(" * (NESTING_DEPTH_MAX + 2) + "1" + ")" * (NESTING_DEPTH_MAX + 2),
        "1+" * EXPRESSION_LENGTH_MAX + "1",
    ],
)
def test_rejects_malformed_expressions(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_amount(text)


def test_syntax_error_says_where() -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"unexpected '\*' at 6"):
        parse_amount("{{a}} * 2")


def test_missing_parameter_is_named() -> None:
    with pytest.raises(MissingParameter, match="fee") as raised:
        parse_amount("{{gross}} - {{fee}}").evaluate({"gross": "10"})
    assert raised.value.extra["parameters"] == ["fee"]


@pytest.mark.parametrize("value", ["12.50", "1e3", " 12", "1_000", "", "abc", "+5", "١٢", "1" * 20])
def test_non_integer_parameter_is_refused(value: str) -> None:
    with pytest.raises(InvalidParameter, match="amount") as raised:
        parse_amount("{{amount}}").evaluate({"amount": value})
    assert raised.value.code == "INVALID_ENTRY_PARAMETER"
