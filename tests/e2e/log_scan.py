"""Personal data and secrets in service logs: what a whole end-to-end run must never write.

Scans every line of every service's log for phone numbers (valid per libphonenumber, Kenyan or
international), IBANs (valid per schwifty), card numbers (Luhn-valid 13-19 digits), JWTs, callback
tokens left in a URL path, and the exact secrets the run used (API keys). Masked forms
(`+254******678`) do not match: masking is what the services must do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

# Digit runs a phone number could be, with an optional + and the separators people type.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.:-])\+?\d[\d ()-]{7,16}\d(?![\w.:-])")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD_CANDIDATE = re.compile(r"(?<![\w.:-])\d{13,19}(?![\w.:-])")
_JWT = re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
# A callback path whose token was not redacted (`[REDACTED]`) or is the route template.
_CALLBACK_TOKEN = re.compile(r"/callbacks/[^/\s\"']+/(?!\[REDACTED\]|%5BREDACTED%5D|\{callback_token\})[^/\s\"'?]+")
PHONE_REGIONS = ("KE", "US", "GB")
SECRET_LENGTH_MIN = 12


@dataclass(frozen=True, slots=True)
class Finding:
    log: str
    line_number: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.log}:{self.line_number}: {self.kind}: …{self.excerpt}…"


def _is_phone(candidate: str) -> bool:
    """A number as people write one: international (`+`), national (a leading 0) or Kenyan without
    the plus (`2547...`, how the rails' APIs take it). A bare run of digits is an id or a count."""
    digits = re.sub(r"[^\d+]", "", candidate)
    if digits.startswith("+"):
        tries = [(digits, None)]
    elif digits.startswith("0"):
        tries = [(digits, region) for region in PHONE_REGIONS]
    elif re.fullmatch(r"254[17]\d{8}", digits):
        tries = [("+" + digits, None)]
    else:
        return False
    for text, region in tries:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return True
    return False


def _is_iban(candidate: str) -> bool:
    try:
        IBAN(candidate.replace(" ", ""))
    except (SchwiftyException, ValueError):
        return False
    return True


def _is_card_number(candidate: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(candidate)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0 and candidate[0] in "23456"  # the networks' ranges: no ids or timestamps


def findings_in_line(line: str, secrets: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(kind, the matching text) for everything in `line` that must not be logged."""
    for match in _PHONE_CANDIDATE.finditer(line):
        if _is_phone(match.group()):
            yield "phone number", match.group()
    for match in _IBAN_CANDIDATE.finditer(line):
        if _is_iban(match.group()):
            yield "IBAN", match.group()
    for match in _CARD_CANDIDATE.finditer(line):
        if _is_card_number(match.group()):
            yield "card number", match.group()
    for match in _JWT.finditer(line):
        yield "bearer token (JWT)", match.group()[:16]
    for match in _CALLBACK_TOKEN.finditer(line):
        yield "callback token in a path", match.group()
    for secret in secrets:
        if len(secret) >= SECRET_LENGTH_MIN and secret in line:
            yield "API key", secret[:4] + "…"


def scan_logs(log_dir: Path, secrets: Iterable[str] = ()) -> tuple[int, list[Finding]]:
    """-> (lines scanned, findings) over every `*.log` under `log_dir`."""
    known = [secret for secret in secrets if secret]
    scanned, found = 0, []
    for log in sorted(log_dir.glob("*.log")):
        with log.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                scanned += 1
                for kind, text in findings_in_line(line, known):
                    found.append(Finding(log.name, number, kind, text[:60]))
    return scanned, found
