"""`parse_statement(body, format)`: a bank statement file, as the raw bytes of the upload, to a `Statement`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from clearway.providers.bank.statements.camt053 import parse_camt053
from clearway.providers.bank.statements.csv_statement import parse_csv
from clearway.providers.bank.statements.model import Statement, StatementFormat, StatementInvalid
from clearway.providers.bank.statements.mt940_statement import parse_mt940

_PARSERS: Final[dict[StatementFormat, Callable[[bytes], Statement]]] = {
    StatementFormat.CSV: parse_csv,
    StatementFormat.CAMT053: parse_camt053,
    StatementFormat.MT940: parse_mt940,
}


def parse_statement(body: bytes, format: StatementFormat | str) -> Statement:
    """Every line of the file, its balances and account. Raises `StatementInvalid` (a ValueError) for an
    unknown format or a file that is not a valid statement of that format; nothing is partly returned.
    The caller caps the body's size; at most `LINES_MAX` lines are read."""
    try:
        statement_format = StatementFormat(format)
    except ValueError as error:
        expected = ", ".join(member.value for member in StatementFormat)
        raise StatementInvalid(f"unknown statement format {str(format)[:20]!r}: expected one of {expected}") from error
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be bytes, not {type(body).__name__}")
    data = bytes(body)
    if not data.strip():
        raise StatementInvalid("the statement file is empty")
    return _PARSERS[statement_format](data)
