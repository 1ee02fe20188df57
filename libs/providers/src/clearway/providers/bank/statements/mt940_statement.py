"""SWIFT MT940 customer statements, read with the `mt-940` package (module `mt940`).

The text is UTF-8 (a byte-order mark is dropped), else read as Latin-1; a SWIFT envelope
(`{1:...}{2:...}{4:` ... `-}`) around the statement is fine. A file may hold several statements
(`:20:` blocks) of one account, e.g. one per day: they are joined (first opening, last closing balance).

- Account `:25:`; statement id `:28C:` (`number/sequence`), else `:20:`. Every statement needs its
  opening (`:60F:`/`:60M:`) and closing (`:62F:`/`:62M:`) balance: a file without one is taken as
  truncated and refused.
- A `:61:` line is one statement line. Booking day: its entry date (`MMDD`), else its value date.
  Mark -> direction: `C` credit -> inbound, `D` debit -> outbound, and the reversals by where the money
  goes: `RC` (reversal of a credit: the credited money is taken back out) -> outbound, `RD` (reversal of a
  debit, e.g. a returned payout: the money comes back in) -> inbound. A reversal is its own line with its
  own id, never netted against the line it reverses. Zero-amount lines are skipped.
- Bank id: the `//` bank reference (not `NONREF`), else the content hash (`model`).
- Reference: the end-to-end reference of a structured `:86:` (`EREF+`, or `/EREF/` in the slash format),
  else the `:61:` customer reference (not `NONREF`), else the `:86:` purpose (`SVWZ+`/`?20..29`, `/REMI/`),
  else the whole `:86:` text. Description: the `:86:` text (for a structured one: posting text, purpose
  and counterparty name).
"""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from typing import Any, Final

import mt940

from clearway.providers.bank.statements.model import (
    Direction,
    LineDraft,
    Statement,
    StatementBalance,
    StatementFormat,
    StatementInvalid,
    StatementPart,
    check_line_count,
    clean_reference,
    clean_text,
    currency_code,
    decimal_to_minor,
    join_parts,
)

# The library logs an unparsable field, raw (names, accounts), at ERROR; StatementInvalid reports it here.
logging.getLogger("mt940.tags").setLevel(logging.CRITICAL)

_OPTIONS: Final = mt940.Options(
    strip_bom=True,
    merge_keeps_values=True,  # a structured :86: without KREF keeps the :61: customer reference
    unbounded_details=True,
    case_insensitive_marks=True,
    applicant_iban=True,
    non_swift_free_text=True,
)
_MARKS: Final[dict[str, Direction]] = {"C": "inbound", "D": "outbound", "RC": "outbound", "RD": "inbound"}
_OPENING_KEYS = ("final_opening_balance", "intermediate_opening_balance", "opening_balance")
_CLOSING_KEYS = ("final_closing_balance", "intermediate_closing_balance", "closing_balance")
_TAG_20 = re.compile(r"^:20:", re.MULTILINE)
_SLASH_FIELD = re.compile(r"/(EREF|REMI)/(.*?)(?=/[A-Z]{3,4}/|$)")


def parse_mt940(body: bytes) -> Statement:
    text = _decode(body)
    if not _TAG_20.search(text):
        raise StatementInvalid("not an MT940 statement: no :20: (transaction reference) tag at the start of a line")
    check_line_count(len(re.findall(r"^:61:", text, re.MULTILINE)))
    try:
        blocks = mt940.parse_statements(io.StringIO(text), options=_OPTIONS)
    except RuntimeError as error:
        raise StatementInvalid(_library_error(error)) from error
    except (ValueError, ArithmeticError, TypeError, KeyError) as error:
        raise StatementInvalid(f"MT940: a field holds an impossible value ({type(error).__name__})") from error
    parts = [_statement(block, index) for index, block in enumerate(blocks, start=1)]
    if not parts:
        raise StatementInvalid("not an MT940 statement: no :20: block")
    first, last = parts[0].statement_id, parts[-1].statement_id
    statement_id = first if len(parts) == 1 or first == last else f"{first}..{last}"
    return join_parts(StatementFormat.MT940, parts, statement_id=statement_id)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _library_error(error: RuntimeError) -> str:
    """`Tag.parse` raises RuntimeError(message, tag, value) for a field that does not match its format."""
    tag = error.args[1] if len(error.args) > 1 else None
    value = str(error.args[2]) if len(error.args) > 2 else ""
    tag_id = getattr(tag, "id", "?")
    first_line = value.splitlines()[0] if value else ""
    return f"MT940 :{tag_id}: field {first_line[:40]!r} does not match the SWIFT format (truncated or malformed?)"


def _statement(block: mt940.models.Transactions, index: int) -> StatementPart:
    data: dict[str, Any] = block.data
    reference = clean_text(data.get("transaction_reference"))
    where = f"statement {index} (:20:{reference or ''})"
    opening = next((data[key] for key in _OPENING_KEYS if key in data), None)
    closing = next((data[key] for key in _CLOSING_KEYS if key in data), None)
    if opening is None:
        raise StatementInvalid(f"{where}: no opening balance (:60F: or :60M:)")
    if closing is None:
        raise StatementInvalid(f"{where}: no closing balance (:62F: or :62M:); the file looks truncated")
    number = clean_text(data.get("statement_number"))
    sequence = clean_text(data.get("sequence_number"))
    lines = [
        line
        for position, transaction in enumerate(block, start=1)
        if (line := _line(transaction.data, f"{where} :61: line {position}")) is not None
    ]
    return StatementPart(
        account_id=clean_text(data.get("account_identification")),
        statement_id=(f"{number}/{sequence}" if number and sequence else number) or reference,
        opening_balance=_balance(opening, f"{where} :60:"),
        closing_balance=_balance(closing, f"{where} :62:"),
        lines=tuple(lines),
    )


def _balance(balance: mt940.models.Balance, where: str) -> StatementBalance:
    amount = balance.amount
    if not isinstance(amount, mt940.models.Amount) or balance.date is None:
        raise StatementInvalid(f"{where}: incomplete balance")
    currency = currency_code(amount.currency, f"{where} currency")
    minor = decimal_to_minor(format(abs(amount.amount), "f"), currency, f"{where} amount")
    on = date(balance.date.year, balance.date.month, balance.date.day)
    return StatementBalance(-minor if (balance.status or "").upper() == "D" else minor, currency, on)


def _line(data: dict[str, Any], where: str) -> LineDraft | None:
    mark = str(data.get("status") or "").upper()
    direction = _MARKS.get(mark)
    amount = data.get("amount")
    if direction is None or not isinstance(amount, mt940.models.Amount):
        raise StatementInvalid(f"{where}: no debit/credit mark (C, D, RC, RD) and amount")
    currency = currency_code(data.get("currency"), f"{where} currency (from :60F:)")
    amount_minor = decimal_to_minor(format(abs(amount.amount), "f"), currency, f"{where} amount")
    if amount_minor == 0:
        return None
    booked = data.get("entry_date") or data.get("date")
    if not isinstance(booked, date):
        raise StatementInvalid(f"{where}: no value date")
    reference, description = _texts(data)
    return LineDraft(
        booked_on=date(booked.year, booked.month, booked.day),
        direction=direction,
        amount_minor=amount_minor,
        currency=currency,
        reference=reference,
        description=description,
        bank_id=clean_reference(data.get("bank_reference")),
    )


def _texts(data: dict[str, Any]) -> tuple[str | None, str | None]:
    raw = data.get("transaction_details")  # present when the :86: is not `?`-structured
    # The slash format (`/EREF/.../REMI/...`) is cut into 65-character lines anywhere, even inside a word.
    details = clean_text(raw.replace("\n", "") if isinstance(raw, str) and raw.lstrip().startswith("/") else raw)
    slash = {key: clean_text(value) for key, value in _SLASH_FIELD.findall(details or "")}
    purpose = clean_text(data.get("purpose"))
    reference = (
        clean_reference(data.get("end_to_end_reference"))
        or clean_reference(slash.get("EREF"))
        or clean_reference(data.get("customer_reference"))
        or clean_reference(purpose)
        or clean_reference(slash.get("REMI"))
        or clean_reference(details)
    )
    if details is not None:
        return reference, details
    structured = [clean_text(data.get(key)) for key in ("posting_text", "purpose", "applicant_name")]
    return reference, " / ".join(part for part in structured if part) or None
