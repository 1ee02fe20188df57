"""What a parsed bank statement is, whatever file it came from, and the rules every format shares.

Amounts are integer minor units with the ISO 4217 exponent of their currency (`clearway.platform.money`):
text amounts go through `Decimal`, never float, and one with more decimals than the currency has is
refused rather than rounded.

External ids. Each line carries an `external_id` that is the same every time the same booking is read,
from this file or from another one that overlaps it, so that an import adds only what is new:

- the bank's own reference for the booking when the file gives one (camt.053 AcctSvcrRef / TxId /
  NtryRef, MT940 `//` bank reference, the CSV `external_id` column), as it is;
- otherwise `h:` and 32 hex digits of SHA-256 over (account, booked_on, direction, amount, currency,
  reference, description, n), where n counts the identical lines before this one in the file (so two
  identical-looking lines get distinct ids, and the same two lines in an overlapping file get the same
  two ids);
- a bank reference that several lines of one file share (some banks repeat it on a payment and its fee)
  cannot tell them apart: those lines get `<reference>/<16 hex digits of the same hash>`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, Literal

from clearway.platform.errors import ProblemError
from clearway.platform.money import AMOUNT_MINOR_MAX, is_known_currency, to_minor
from clearway.providers.errors import ProviderError

LINES_MAX: Final = 100_000
EXTERNAL_ID_LENGTH_MAX: Final = 128
HASH_ID_PREFIX: Final = "h:"

Direction = Literal["inbound", "outbound"]

# What banks write where a reference is absent ("NONREF" in MT940, "NOTPROVIDED" in ISO 20022).
_PLACEHOLDER_REFERENCES = frozenset({"NONREF", "NOREF", "NOTPROVIDED", "NOT PROVIDED", "NONE"})
_CURRENCY = re.compile(r"[A-Z]{3}")
_DECIMAL = re.compile(r"\d{1,30}(\.\d{1,30})?")
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class StatementFormat(StrEnum):
    CSV = "csv"
    CAMT053 = "camt053"
    MT940 = "mt940"


class StatementInvalid(ProviderError, ValueError):
    """A statement file we cannot read; the message names the line or element and the field.

    Nothing of the file was kept. Answer 422 (or 400) with the message: it never echoes more of the file
    than the offending value.
    """

    code = "STATEMENT_INVALID"


@dataclass(frozen=True, slots=True)
class StatementLine:
    external_id: str
    booked_on: date
    direction: Direction
    amount_minor: int  # positive: `direction` carries the sign
    currency: str
    reference: str | None
    description: str | None

    def __post_init__(self) -> None:
        if self.direction not in ("inbound", "outbound"):
            raise ValueError(f"direction must be inbound or outbound, not {self.direction!r}")
        if isinstance(self.amount_minor, bool) or not 0 < self.amount_minor <= AMOUNT_MINOR_MAX:
            raise ValueError(f"amount_minor must be 1..{AMOUNT_MINOR_MAX}, not {self.amount_minor!r}")
        if not self.external_id:
            raise ValueError("external_id must not be empty")

    @property
    def signed_amount_minor(self) -> int:
        """As the account sees it: money in is positive."""
        return self.amount_minor if self.direction == "inbound" else -self.amount_minor


@dataclass(frozen=True, slots=True)
class StatementBalance:
    amount_minor: int  # signed: a credit balance is positive, a debit (overdrawn) one negative
    currency: str
    on: date


@dataclass(frozen=True, slots=True)
class Statement:
    format: StatementFormat
    account_id: str | None  # IBAN or account number, when the file states it
    statement_id: str | None
    opening_balance: StatementBalance | None
    closing_balance: StatementBalance | None
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True, slots=True)
class LineDraft:
    """A line before ids are given: `bank_id` is the bank's own reference for the booking, if any."""

    booked_on: date
    direction: Direction
    amount_minor: int
    currency: str
    reference: str | None
    description: str | None
    bank_id: str | None


@dataclass(frozen=True, slots=True)
class StatementPart:
    """One statement of a file (camt `Stmt`, MT940 `:20:` block) before they are joined."""

    account_id: str | None
    statement_id: str | None
    opening_balance: StatementBalance | None
    closing_balance: StatementBalance | None
    lines: tuple[LineDraft, ...]


def currency_code(raw: str | None, where: str) -> str:
    value = (raw or "").strip()
    if not _CURRENCY.fullmatch(value) or not is_known_currency(value):
        raise StatementInvalid(f"{where}: {value[:8]!r} is not an ISO 4217 currency code with minor units")
    return value


def decimal_to_minor(raw: str | None, currency: str, where: str) -> int:
    """`"12.30"` EUR -> 1230. Unsigned decimal text with `.`; more decimals than the currency has is refused."""
    value = (raw or "").strip()
    if not _DECIMAL.fullmatch(value):
        raise StatementInvalid(f"{where}: {value[:40]!r} is not an unsigned decimal amount")
    try:
        minor = to_minor(value, currency)
    except ProblemError as error:
        raise StatementInvalid(f"{where}: {error.detail or error.title}") from error
    if minor > AMOUNT_MINOR_MAX:
        raise StatementInvalid(f"{where}: {value} {currency} is too large")
    return minor


def clean_text(value: str | None) -> str | None:
    """Whitespace (line breaks included) collapsed to single spaces; empty is None."""
    if value is None:
        return None
    cleaned = _WHITESPACE.sub(" ", value).strip()
    return cleaned or None


def clean_reference(value: str | None) -> str | None:
    """`clean_text`, and a bank's stand-in for "no reference" (NONREF, NOTPROVIDED) is None."""
    cleaned = clean_text(value)
    if cleaned is None or cleaned.upper() in _PLACEHOLDER_REFERENCES:
        return None
    return cleaned


def check_external_id(value: str, where: str) -> str:
    if len(value) > EXTERNAL_ID_LENGTH_MAX or _CONTROL.search(value):
        raise StatementInvalid(
            f"{where}: external_id must be at most {EXTERNAL_ID_LENGTH_MAX} characters without control characters"
        )
    return value


def check_line_count(count: int) -> None:
    if count > LINES_MAX:
        raise StatementInvalid(f"the statement has more than {LINES_MAX:,} lines; split it into several files")


def _content_hash(account_id: str | None, draft: LineDraft, occurrence: int) -> str:
    canonical = json.dumps(
        [
            account_id or "",
            draft.booked_on.isoformat(),
            draft.direction,
            draft.amount_minor,
            draft.currency,
            draft.reference or "",
            draft.description or "",
            occurrence,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def assign_external_ids(drafts: Sequence[LineDraft], *, account_id: str | None) -> tuple[StatementLine, ...]:
    """The ids described in the module docstring, in file order."""
    check_line_count(len(drafts))
    shared_bank_ids = {bank_id for bank_id, count in Counter(d.bank_id for d in drafts).items() if count > 1}
    occurrences: Counter[tuple[object, ...]] = Counter()
    lines = []
    for draft in drafts:
        key = (draft.booked_on, draft.direction, draft.amount_minor, draft.currency, draft.reference, draft.description)
        digest = _content_hash(account_id, draft, occurrences[key])
        occurrences[key] += 1
        if draft.bank_id is None:
            external_id = HASH_ID_PREFIX + digest[:32]
        elif draft.bank_id in shared_bank_ids:
            external_id = f"{draft.bank_id}/{digest[:16]}"
        else:
            external_id = draft.bank_id
        lines.append(
            StatementLine(
                external_id=external_id,
                booked_on=draft.booked_on,
                direction=draft.direction,
                amount_minor=draft.amount_minor,
                currency=draft.currency,
                reference=draft.reference,
                description=draft.description,
            )
        )
    return tuple(lines)


def join_parts(
    statement_format: StatementFormat, parts: Sequence[StatementPart], *, statement_id: str | None
) -> Statement:
    """Several statements of one account in one file (days, or pages) as one: the first one's opening
    balance, the last one's closing balance, every line. Statements of different accounts are refused."""
    assert parts, "a statement file has at least one statement"
    accounts = sorted({part.account_id for part in parts if part.account_id})
    if len(accounts) > 1:
        raise StatementInvalid(
            f"the file holds statements of {len(accounts)} accounts ({', '.join(accounts)}); import one account per file"
        )
    account_id = accounts[0] if accounts else None
    drafts = [line for part in parts for line in part.lines]
    return Statement(
        format=statement_format,
        account_id=account_id,
        statement_id=statement_id,
        opening_balance=parts[0].opening_balance,
        closing_balance=parts[-1].closing_balance,
        lines=assign_external_ids(drafts, account_id=account_id),
    )
