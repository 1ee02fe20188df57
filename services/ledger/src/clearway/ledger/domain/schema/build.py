"""Posting an entry type: fill parameters, evaluate amounts, pick currencies, drop zero lines."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX
from clearway.ledger.domain.schema.entry import ResolvedCondition, ResolvedEntry, ResolvedLine
from clearway.ledger.domain.schema.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    CurrencyRequired,
    EmptyEntry,
    InvalidParameter,
    MissingParameter,
)
from clearway.ledger.domain.schema.ledger_schema import LedgerSchema
from clearway.ledger.domain.schema.model import CURRENCY_CODE, AccountSpec, ConditionSpec, LineSpec
from clearway.ledger.domain.schema.paths import is_valid_template_key, split_template
from clearway.ledger.domain.schema.templates import check_parameters, fill, referenced_parameters


def build_entry(
    schema: LedgerSchema,
    entry_type: str,
    parameters: Mapping[str, str],
    currency_default: str | None = None,
) -> ResolvedEntry:
    """Resolve `entry_type` of `schema` with `parameters` (all strings; amounts as integer strings).

    A line's currency is, in order: its own (fixed or `{{parameter}}`), its account's, then
    `currency_default`. Raises a `LedgerError` subclass naming what is wrong; the result balances.
    """
    check_parameters(parameters)
    spec = schema.entry_type(entry_type)
    missing = [name for name in spec.parameters if name not in parameters]
    if missing:
        raise MissingParameter(
            f"entry type {entry_type!r} needs parameter(s): {', '.join(missing)}", parameters=missing
        )
    frozen_parameters = MappingProxyType(dict(parameters))
    lines: list[ResolvedLine] = []
    for number, line_spec in enumerate(spec.lines, start=1):
        line = _resolve_line(schema, line_spec, frozen_parameters, currency_default, f"line {number}")
        if line is not None:
            lines.append(line)
    if not lines:
        raise EmptyEntry(f"entry type {entry_type!r} has no non-zero lines", entry_type=entry_type)
    conditions = tuple(
        _resolve_condition(schema, condition, frozen_parameters, currency_default, lines)
        for condition in spec.conditions
    )
    return ResolvedEntry(
        schema_key=schema.key,
        schema_version=schema.version,
        entry_type=spec.type,
        lines=tuple(lines),
        parameters=frozen_parameters,
        conditions=conditions,
    )


def _resolve_line(
    schema: LedgerSchema,
    spec: LineSpec,
    parameters: Mapping[str, str],
    currency_default: str | None,
    where: str,
) -> ResolvedLine | None:
    account = _declared_account(schema, spec.account)
    amount_minor = spec.amount_expression.evaluate(parameters)
    if abs(amount_minor) > AMOUNT_MINOR_MAX:
        raise AmountOutOfRange(f"{where} ({spec.account}): amount {amount_minor} is out of range")
    if amount_minor == 0:
        return None
    return ResolvedLine(
        account_path=_fill_path(spec.account, parameters),
        template_path=account.path,
        account_type=account.type,
        flags=account.flags,
        amount_minor=amount_minor,
        currency=_currency(spec.currency, account, parameters, currency_default, f"{where} ({spec.account})"),
        key=spec.key,
    )


def _resolve_condition(
    schema: LedgerSchema,
    spec: ConditionSpec,
    parameters: Mapping[str, str],
    currency_default: str | None,
    lines: list[ResolvedLine],
) -> ResolvedCondition:
    account = _declared_account(schema, spec.account)
    where = f"condition on {spec.account}"
    entry_currencies = {line.currency for line in lines}
    if spec.currency is None and account.currency is None and currency_default is None:
        # A single-currency entry leaves no doubt about which balance the condition means.
        if len(entry_currencies) != 1:
            raise CurrencyRequired(f"{where}: give a currency; the entry posts in {sorted(entry_currencies)}")
        currency_default = next(iter(entry_currencies))
    bounds = {operator: expression.evaluate(parameters) for operator, expression in spec.bounds.expressions.items()}
    return ResolvedCondition(
        account_path=_fill_path(spec.account, parameters),
        currency=_currency(spec.currency, account, parameters, currency_default, where),
        phase=spec.phase,
        eq_minor=bounds.get("eq"),
        gte_minor=bounds.get("gte"),
        lte_minor=bounds.get("lte"),
    )


def _declared_account(schema: LedgerSchema, path: str) -> AccountSpec:
    account = schema.find_account(path)
    assert account is not None, f"schema validation guarantees {path!r} is declared"
    return account


def _fill_path(path: str, parameters: Mapping[str, str]) -> str:
    prefix, key = split_template(path)
    if key is None:
        return path
    filled_key = fill(key, parameters)
    if not is_valid_template_key(filled_key):
        names = ", ".join(referenced_parameters(key))
        raise InvalidParameter(
            f"account key {filled_key[:80]!r} for {path} (from {names}) may only hold letters, digits and '_.@-'",
            parameters=list(referenced_parameters(key)),
        )
    return f"{prefix}:{filled_key}"


def _currency(
    expression: str | None,
    account: AccountSpec,
    parameters: Mapping[str, str],
    currency_default: str | None,
    where: str,
) -> str:
    currency = fill(expression, parameters) if expression is not None else account.currency or currency_default
    if currency is None:
        raise CurrencyRequired(f"{where}: no currency; the line, its account and the request give none")
    if CURRENCY_CODE.fullmatch(currency) is None:
        raise InvalidParameter(f"{where}: {currency[:16]!r} is not an ISO 4217 currency code")
    if account.currency is not None and currency != account.currency:
        raise CurrencyMismatch(
            f"{where}: currency {currency} differs from the account's fixed currency {account.currency}"
        )
    return currency
