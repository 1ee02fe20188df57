"""Bank statement import: CSV, ISO 20022 camt.053 and SWIFT MT940 files to one `Statement`.

See libs/providers/README.md ("Bank statements") and the module docstrings for how each format's
fields map, and `model` for how external ids stay stable across re-imports.
"""

from clearway.providers.bank.statements.model import (
    LINES_MAX,
    Statement,
    StatementBalance,
    StatementFormat,
    StatementInvalid,
    StatementLine,
)
from clearway.providers.bank.statements.parse import parse_statement

__all__ = [
    "LINES_MAX",
    "Statement",
    "StatementBalance",
    "StatementFormat",
    "StatementInvalid",
    "StatementLine",
    "parse_statement",
]
