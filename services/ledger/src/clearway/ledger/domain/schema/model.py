"""The parts of a ledger schema: accounts, entry types, their lines and conditions.

Each part checks what it can see on its own (syntax, flag rules, parsable amounts); the checks
that need the whole schema (does a line's account exist?) live in `ledger_schema`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from clearway.ledger.domain.schema.expression import AmountExpression, parse_amount
from clearway.ledger.domain.schema.paths import (
    PATH_LENGTH_MAX,
    is_valid_prefix,
    is_valid_template_key,
    split_template,
)
from clearway.ledger.domain.schema.templates import is_single_reference, referenced_parameters

AccountType = Literal["asset", "liability", "income", "expense", "equity"]
DEBIT_NORMAL_TYPES: frozenset[AccountType] = frozenset({"asset", "expense"})
ConditionPhase = Literal["precondition", "postcondition"]

LINES_PER_ENTRY_TYPE_MAX = 50
CONDITIONS_PER_ENTRY_TYPE_MAX = 50
ENTRY_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class SchemaPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountFlags(SchemaPart):
    linked: bool = False
    clearing: bool = False
    template: bool = False


class AccountSpec(SchemaPart):
    path: str = Field(max_length=PATH_LENGTH_MAX)
    type: AccountType
    flags: AccountFlags = AccountFlags()
    currency: str | None = Field(default=None, description="None: the entry gives the currency")

    @property
    def prefix(self) -> str:
        return split_template(self.path)[0]

    @model_validator(mode="after")
    def _check(self) -> AccountSpec:
        prefix, key = split_template(self.path)
        where = f"account {self.path!r}"
        if not is_valid_prefix(prefix):
            raise ValueError(f"{where}: path must be lower-case segments separated by '/'")
        if self.flags.template != (key is not None):
            raise ValueError(f"{where}: a ':{{{{key}}}}' suffix is required exactly when flags.template is set")
        if key is not None and not is_single_reference(key):
            raise ValueError(f"{where}: a template key must be one parameter, like ':{{{{user_id}}}}'")
        if (self.flags.clearing or self.flags.linked) and self.type not in ("asset", "liability"):
            raise ValueError(f"{where}: clearing and linked accounts must be asset or liability accounts")
        if self.flags.linked and self.type != "asset":
            raise ValueError(f"{where}: only asset accounts can be linked to an external account")
        if self.currency is not None and CURRENCY_CODE.fullmatch(self.currency) is None:
            raise ValueError(f"{where}: currency must be an ISO 4217 code like 'USD'")
        return self


def check_line_path(path: str) -> None:
    """A line or condition path: a plain path, or a template prefix with a key that may use parameters."""
    if len(path) > PATH_LENGTH_MAX:
        raise ValueError(f"account path {path[:80]!r}... is too long")
    prefix, key = split_template(path)
    if not is_valid_prefix(prefix):
        raise ValueError(f"account path {path!r} must be lower-case segments separated by '/'")
    if key is not None:
        referenced_parameters(key)
        # Placeholders stand in for values that are checked when the entry is posted.
        if not is_valid_template_key(re.sub(r"\{\{[^}]*\}\}", "x", key)):
            raise ValueError(f"account path {path!r} has an invalid template key")


def check_currency_expression(currency: str | None) -> None:
    if currency is None or CURRENCY_CODE.fullmatch(currency) or is_single_reference(currency):
        return
    raise ValueError(f"currency {currency!r} must be an ISO 4217 code like 'USD' or one '{{{{parameter}}}}'")


class LineSpec(SchemaPart):
    account: str
    amount: str
    currency: str | None = None
    key: str | None = Field(default=None, max_length=64)
    _amount: AmountExpression = PrivateAttr()

    @property
    def amount_expression(self) -> AmountExpression:
        return self._amount

    @property
    def parameters(self) -> tuple[str, ...]:
        names = [*referenced_parameters(self.account), *self._amount.parameters]
        if self.currency is not None:
            names.extend(referenced_parameters(self.currency))
        return tuple(dict.fromkeys(names))

    @model_validator(mode="after")
    def _check(self) -> LineSpec:
        check_line_path(self.account)
        check_currency_expression(self.currency)
        self._amount = parse_amount(self.amount)
        return self


class OwnBalanceBounds(SchemaPart):
    eq: str | None = None
    gte: str | None = None
    lte: str | None = None
    _expressions: dict[str, AmountExpression] = PrivateAttr(default_factory=dict)

    @property
    def expressions(self) -> dict[str, AmountExpression]:
        """Operator (`eq`, `gte`, `lte`) -> parsed bound, only for the bounds that are set."""
        return dict(self._expressions)

    @model_validator(mode="after")
    def _check(self) -> OwnBalanceBounds:
        bounds = {"eq": self.eq, "gte": self.gte, "lte": self.lte}
        self._expressions = {name: parse_amount(text) for name, text in bounds.items() if text is not None}
        if not self._expressions:
            raise ValueError("own_balance needs at least one of eq, gte, lte")
        return self


class BalanceCondition(SchemaPart):
    own_balance: OwnBalanceBounds


class ConditionSpec(SchemaPart):
    account: str
    currency: str | None = None
    precondition: BalanceCondition | None = None
    postcondition: BalanceCondition | None = None

    @property
    def phase(self) -> ConditionPhase:
        return "precondition" if self.precondition is not None else "postcondition"

    @property
    def bounds(self) -> OwnBalanceBounds:
        condition = self.precondition or self.postcondition
        assert condition is not None, "validated: exactly one phase is set"
        return condition.own_balance

    @property
    def parameters(self) -> tuple[str, ...]:
        names = list(referenced_parameters(self.account))
        if self.currency is not None:
            names.extend(referenced_parameters(self.currency))
        for expression in self.bounds.expressions.values():
            names.extend(expression.parameters)
        return tuple(dict.fromkeys(names))

    @model_validator(mode="after")
    def _check(self) -> ConditionSpec:
        check_line_path(self.account)
        check_currency_expression(self.currency)
        if (self.precondition is None) == (self.postcondition is None):
            raise ValueError(f"condition on {self.account!r}: set exactly one of precondition, postcondition")
        return self


class EntryTypeSpec(SchemaPart):
    type: str
    description: str = Field(default="", max_length=1000)
    lines: list[LineSpec] = Field(min_length=1, max_length=LINES_PER_ENTRY_TYPE_MAX)
    conditions: list[ConditionSpec] = Field(default_factory=list, max_length=CONDITIONS_PER_ENTRY_TYPE_MAX)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter a caller must supply to post this entry type."""
        names: list[str] = []
        for line in self.lines:
            names.extend(line.parameters)
        for condition in self.conditions:
            names.extend(condition.parameters)
        return tuple(dict.fromkeys(names))

    @model_validator(mode="after")
    def _check(self) -> EntryTypeSpec:
        if ENTRY_TYPE_NAME.fullmatch(self.type) is None:
            raise ValueError(f"entry type {self.type!r} must be a snake_case name")
        keys = [line.key for line in self.lines if line.key is not None]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"entry type {self.type!r}: duplicate line keys {duplicates}")
        return self
