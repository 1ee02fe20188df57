"""The schema engine: FRAGMENT-style ledger schemas (accounts, entry types), turning a named entry
type plus parameters into balanced lines, balance conditions, reversals and path matching.

Pure: no database, no broker, no clock. The repository and service layers persist what it builds.
"""

from clearway.ledger.domain.schema.balances import (
    ClearingStatus,
    clearing_status,
    clearing_status_across,
    natural_balance,
)
from clearway.ledger.domain.schema.build import build_entry
from clearway.ledger.domain.schema.conditions import check_conditions, own_balance_deltas
from clearway.ledger.domain.schema.entry import (
    ResolvedCondition,
    ResolvedEntry,
    ResolvedLine,
    check_balanced,
    reverse_entry,
    totals_by_currency,
)
from clearway.ledger.domain.schema.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    CurrencyRequired,
    EmptyEntry,
    ExpressionSyntaxError,
    InvalidParameter,
    InvalidPathPattern,
    MissingParameter,
    SchemaInvalid,
    TemplateSyntaxError,
    UnbalancedEntry,
    UnknownEntryType,
)
from clearway.ledger.domain.schema.expression import AmountExpression, parse_amount
from clearway.ledger.domain.schema.ledger_schema import LedgerSchema
from clearway.ledger.domain.schema.loader import load_shipped_schemas, parse_schema, parse_schema_object
from clearway.ledger.domain.schema.model import (
    AccountFlags,
    AccountSpec,
    AccountType,
    BalanceCondition,
    ConditionSpec,
    EntryTypeSpec,
    LineSpec,
    OwnBalanceBounds,
)
from clearway.ledger.domain.schema.paths import path_matches, split_template

__all__ = [
    "AccountFlags",
    "AccountSpec",
    "AccountType",
    "AmountExpression",
    "AmountOutOfRange",
    "BalanceCondition",
    "ClearingStatus",
    "ConditionSpec",
    "CurrencyMismatch",
    "CurrencyRequired",
    "EmptyEntry",
    "EntryTypeSpec",
    "ExpressionSyntaxError",
    "InvalidParameter",
    "InvalidPathPattern",
    "LedgerSchema",
    "LineSpec",
    "MissingParameter",
    "OwnBalanceBounds",
    "ResolvedCondition",
    "ResolvedEntry",
    "ResolvedLine",
    "SchemaInvalid",
    "TemplateSyntaxError",
    "UnbalancedEntry",
    "UnknownEntryType",
    "build_entry",
    "check_balanced",
    "check_conditions",
    "clearing_status",
    "clearing_status_across",
    "load_shipped_schemas",
    "natural_balance",
    "own_balance_deltas",
    "parse_amount",
    "parse_schema",
    "parse_schema_object",
    "path_matches",
    "reverse_entry",
    "split_template",
    "totals_by_currency",
]
