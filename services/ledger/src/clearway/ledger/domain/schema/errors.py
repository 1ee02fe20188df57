"""Errors of the schema engine.

Two families, because they surface at different times:
- `ExpressionSyntaxError` and `TemplateSyntaxError` are `ValueError`s so that pydantic turns them
  into validation errors while a schema document loads; `SchemaInvalid` then carries the whole
  report out of the loader.
- Posting-time failures are `LedgerError`s with stable codes, so the HTTP layer maps them like
  every other ledger error.
"""

from __future__ import annotations

from clearway.ledger.domain.errors import CurrencyMismatch, InvalidRequest, LedgerError

__all__ = [
    "AmountOutOfRange",
    "CurrencyMismatch",
    "CurrencyRequired",
    "EmptyEntry",
    "ExpressionSyntaxError",
    "InvalidParameter",
    "InvalidPathPattern",
    "MissingParameter",
    "SchemaInvalid",
    "TemplateSyntaxError",
    "UnbalancedEntry",
    "UnknownEntryType",
]


class ExpressionSyntaxError(ValueError):
    """An amount expression that cannot be parsed (found when the schema loads)."""


class TemplateSyntaxError(ValueError):
    """A `{{parameter}}` reference that is not well formed (found when the schema loads)."""


class SchemaInvalid(InvalidRequest):
    code = "SCHEMA_INVALID"


class UnknownEntryType(LedgerError):
    code = "UNKNOWN_ENTRY_TYPE"


class MissingParameter(InvalidRequest):
    code = "MISSING_ENTRY_PARAMETER"


class InvalidParameter(InvalidRequest):
    code = "INVALID_ENTRY_PARAMETER"


class InvalidPathPattern(InvalidRequest):
    code = "INVALID_PATH_PATTERN"


class CurrencyRequired(InvalidRequest):
    code = "CURRENCY_REQUIRED"


class AmountOutOfRange(InvalidRequest):
    code = "AMOUNT_OUT_OF_RANGE"


class EmptyEntry(LedgerError):
    code = "EMPTY_ENTRY"


class UnbalancedEntry(LedgerError):
    code = "UNBALANCED_ENTRY"
