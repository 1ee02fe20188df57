"""Our own CSV statement layout, for banks (and tests) without camt.053 or MT940.

    booked_on,direction,amount_minor,currency,reference,external_id,description
    2026-03-02,inbound,125000,EUR,wd_01HX4K2M9Q,BNK-0001,Top-up from ACME GmbH

- UTF-8 (a byte-order mark is tolerated), comma separated, `"` quoting (RFC 4180); the header row is
  required and has exactly these seven columns in this order: a missing, extra or renamed column is
  refused, naming it.
- `booked_on` an ISO date (`YYYY-MM-DD`); `direction` `inbound` or `outbound`; `amount_minor` a positive
  integer count of minor units (`12.50 EUR` is `1250`, no sign, no decimal point); `currency` an upper-case
  ISO 4217 code with minor units.
- `reference`, `external_id`, `description` may be empty (-> None). An empty `external_id` gets a content
  hash (see `model`); a given one must be unique within the file.
- Blank lines are skipped; at most `LINES_MAX` (100,000) lines. The caller caps the body's size.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Final

from clearway.platform.money import AMOUNT_MINOR_MAX
from clearway.providers.bank.statements.model import (
    Direction,
    LineDraft,
    Statement,
    StatementFormat,
    StatementInvalid,
    assign_external_ids,
    check_external_id,
    check_line_count,
    currency_code,
)

CSV_COLUMNS: Final = ("booked_on", "direction", "amount_minor", "currency", "reference", "external_id", "description")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"\d{1,20}")
_DIRECTIONS: Final[dict[str, Direction]] = {"inbound": "inbound", "outbound": "outbound"}


def parse_csv(body: bytes) -> Statement:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StatementInvalid(f"the CSV is not UTF-8 text (invalid byte at offset {error.start})") from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise StatementInvalid(f"the CSV is empty: it needs the header row {','.join(CSV_COLUMNS)}")
        _check_header(header)
        drafts: list[LineDraft] = []
        seen_ids: dict[str, int] = {}
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            check_line_count(len(drafts) + 1)
            drafts.append(_line(row, reader.line_num, seen_ids))
    except csv.Error as error:
        raise StatementInvalid(f"line {reader.line_num}: malformed CSV ({error})") from error
    return Statement(
        format=StatementFormat.CSV,
        account_id=None,
        statement_id=None,
        opening_balance=None,
        closing_balance=None,
        lines=assign_external_ids(drafts, account_id=None),
    )


def _check_header(header: list[str]) -> None:
    names = [name.strip() for name in header]
    if tuple(names) == CSV_COLUMNS:
        return
    expected = ",".join(CSV_COLUMNS)
    unknown = [name for name in names if name not in CSV_COLUMNS]
    missing = [name for name in CSV_COLUMNS if name not in names]
    if len(unknown) == len(names):
        raise StatementInvalid(f"line 1 must be the header row {expected}")
    problems = []
    if unknown:
        problems.append(f"unexpected column(s) {', '.join(repr(name[:40]) for name in unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if not problems:
        duplicated = sorted({name for name in names if names.count(name) > 1})
        problems.append(
            f"column(s) {', '.join(duplicated)} repeated" if duplicated else "the columns are in another order"
        )
    raise StatementInvalid(f"line 1 (header): {'; '.join(problems)}; expected exactly {expected}")


def _line(row: list[str], line: int, seen_ids: dict[str, int]) -> LineDraft:
    if len(row) != len(CSV_COLUMNS):
        raise StatementInvalid(f"line {line}: {len(row)} fields, expected {len(CSV_COLUMNS)} ({','.join(CSV_COLUMNS)})")
    booked_raw, direction_raw, amount_raw, currency_raw, reference, external_id, description = (
        cell.strip() for cell in row
    )
    if not _ISO_DATE.fullmatch(booked_raw):
        raise StatementInvalid(f"line {line}: booked_on {booked_raw[:40]!r} is not an ISO date (YYYY-MM-DD)")
    try:
        booked_on = date.fromisoformat(booked_raw)
    except ValueError as error:
        raise StatementInvalid(f"line {line}: booked_on {booked_raw!r} is not a calendar date") from error
    direction = _DIRECTIONS.get(direction_raw)
    if direction is None:
        raise StatementInvalid(f"line {line}: direction {direction_raw[:40]!r} must be inbound or outbound")
    if not _DIGITS.fullmatch(amount_raw) or not 0 < int(amount_raw) <= AMOUNT_MINOR_MAX:
        raise StatementInvalid(
            f"line {line}: amount_minor {amount_raw[:40]!r} must be a positive integer count of minor units "
            "(no sign, no decimal point: 12.50 EUR is 1250)"
        )
    currency = currency_code(currency_raw, f"line {line}: currency")
    if external_id:
        check_external_id(external_id, f"line {line}")
        if external_id in seen_ids:
            raise StatementInvalid(
                f"line {line}: external_id {external_id!r} was already used on line {seen_ids[external_id]}"
            )
        seen_ids[external_id] = line
    return LineDraft(
        booked_on=booked_on,
        direction=direction,
        amount_minor=int(amount_raw),
        currency=currency,
        reference=reference or None,
        description=description or None,
        bank_id=external_id or None,
    )
