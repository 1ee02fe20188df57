"""Integer amount expressions: `{{amount}}`, `{{gross}} - {{fee}}`, `-({{a}} + {{b}} - 100)`.

Grammar (whitespace between tokens is ignored):

    expression := operand (("+" | "-") operand)*
    operand    := "-" operand | "(" expression ")" | INTEGER | "{{" NAME "}}"

Amounts are integers in minor units, so there is no division, multiplication or float. The text
is parsed once when the schema loads; posting only evaluates the tree. Nothing here calls eval().
Length, nesting and digit counts are bounded so a hostile schema or parameter cannot make us
spin or allocate without limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from clearway.ledger.domain.schema.errors import ExpressionSyntaxError, InvalidParameter, MissingParameter
from clearway.ledger.domain.schema.templates import PARAMETER_NAME

EXPRESSION_LENGTH_MAX = 256
NESTING_DEPTH_MAX = 16
INTEGER_DIGITS_MAX = 19  # BIGINT has 19 digits; anything longer is out of range anyway

_TOKEN = re.compile(r"(?P<integer>[0-9]+)|\{\{(?P<parameter>" + PARAMETER_NAME.pattern + r")\}\}|(?P<symbol>[-+()])")
_INTEGER_PARAMETER = re.compile(rf"-?[0-9]{{1,{INTEGER_DIGITS_MAX}}}")


@dataclass(frozen=True, slots=True)
class Integer:
    value: int


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Sum:
    """`left + right`, or `left - right` when `subtract`."""

    left: Node
    right: Node
    subtract: bool


Node = Integer | Parameter | Negate | Sum
Token = tuple[str, str, int]  # (kind, text, position)


@dataclass(frozen=True, slots=True)
class AmountExpression:
    text: str
    root: Node
    parameters: tuple[str, ...]

    def evaluate(self, parameters: Mapping[str, str]) -> int:
        missing = [name for name in self.parameters if name not in parameters]
        if missing:
            raise MissingParameter(
                f"missing entry parameter(s) for amount {self.text!r}: {', '.join(missing)}",
                parameters=missing,
            )
        values = {name: integer_parameter(name, parameters[name]) for name in self.parameters}
        return _evaluate(self.root, values, depth=0)


def integer_parameter(name: str, value: str) -> int:
    """Parameters used in amounts must be plain integers: `"1250"`, `"-3"`; never `"12.50"` or `"1e3"`."""
    # fullmatch on an explicit ASCII class: int() alone would accept "1_000", " 12 " and other digits.
    if not isinstance(value, str) or _INTEGER_PARAMETER.fullmatch(value) is None:
        raise InvalidParameter(
            f"entry parameter {name} must be an integer count of minor units, got {str(value)[:40]!r}",
            parameter=name,
        )
    return int(value)


def parse_amount(text: str) -> AmountExpression:
    if len(text) > EXPRESSION_LENGTH_MAX:
        raise ExpressionSyntaxError(f"amount expression is longer than {EXPRESSION_LENGTH_MAX} characters")
    parser = _Parser(text, _tokenize(text))
    root = parser.expression(depth=0)
    parser.expect_end()
    return AmountExpression(text=text, root=root, parameters=tuple(dict.fromkeys(parser.parameters)))


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = _skip_spaces(text, 0)
    # Each pass consumes at least one character, so the loop is bounded by the (bounded) length.
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionSyntaxError(f"unexpected {text[position]!r} at {position} in amount {text!r}")
        kind = match.lastgroup
        assert kind is not None
        token_text = match.group(kind)
        if kind == "integer" and len(token_text) > INTEGER_DIGITS_MAX:
            raise ExpressionSyntaxError(f"integer literal too long in {text!r}")
        tokens.append((kind, token_text, position))
        position = _skip_spaces(text, match.end())
    return tokens


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.parameters: list[str] = []

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.peek()
        assert token is not None
        self.index += 1
        return token

    def fail(self, expected: str) -> ExpressionSyntaxError:
        token = self.peek()
        found = f"{token[1]!r} at {token[2]}" if token else "end of expression"
        return ExpressionSyntaxError(f"expected {expected}, found {found} in amount {self.text!r}")

    def expression(self, depth: int) -> Node:
        node = self.operand(depth)
        while (token := self.peek()) is not None and token[0] == "symbol" and token[1] in "+-":
            self.advance()
            node = Sum(node, self.operand(depth), subtract=token[1] == "-")
        return node

    def operand(self, depth: int) -> Node:
        if depth > NESTING_DEPTH_MAX:
            raise ExpressionSyntaxError(f"amount {self.text!r} nests deeper than {NESTING_DEPTH_MAX}")
        token = self.peek()
        if token is None:
            raise self.fail("a number, a {{parameter}} or '('")
        kind, token_text, _ = token
        if kind == "integer":
            self.advance()
            return Integer(int(token_text))
        if kind == "parameter":
            self.advance()
            self.parameters.append(token_text)
            return Parameter(token_text)
        if token_text == "-":  # noqa: S105
            self.advance()
            return Negate(self.operand(depth + 1))
        if token_text == "(":  # noqa: S105
            self.advance()
            node = self.expression(depth + 1)
            closing = self.peek()
            if closing is None or closing[1] != ")":
                raise self.fail("')'")
            self.advance()
            return node
        raise self.fail("a number, a {{parameter}} or '('")

    def expect_end(self) -> None:
        if self.peek() is not None:
            raise self.fail("'+', '-' or the end")


def _evaluate(node: Node, values: Mapping[str, int], depth: int) -> int:
    # Depth is bounded by the parser (NESTING_DEPTH_MAX plus one level per binary operator).
    assert depth <= EXPRESSION_LENGTH_MAX, "expression tree deeper than its text allows"
    if isinstance(node, Integer):
        return node.value
    if isinstance(node, Parameter):
        return values[node.name]
    if isinstance(node, Negate):
        return -_evaluate(node.operand, values, depth + 1)
    left = _evaluate(node.left, values, depth + 1)
    right = _evaluate(node.right, values, depth + 1)
    return left - right if node.subtract else left + right
