"""What of a dead-lettered record an operator may read: bounded text with personal data and secrets masked.

A dead letter's payload is whatever the producer sent, so it may carry a phone number, an IBAN, a
card number or a token. The preview keeps what helps find the cause (the shape, the ids, the
amounts) and masks what `tests/e2e/log_scan.py` forbids in logs: values under credential-like field
names (`clearway.platform.logging.SENSITIVE_FIELD`), phone numbers, IBANs, Luhn-valid card numbers,
JWTs and callback tokens in a path. It never adds anything the record did not carry, and it is cut
to a bound after masking, so a cut never leaves half a number unmasked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from clearway.platform.logging import REDACTED, SENSITIVE_FIELD

PAYLOAD_PREVIEW_CHARS_MAX = 2_000
TEXT_CHARS_MAX = 1_000
JSON_DEPTH_MAX = 8
TRUNCATED = "…"

# Digit runs a phone number could be, with an optional + and the separators people type.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.:-])\+?\d[\d ()-]{7,16}\d(?![\w.:-])")
_KENYAN_WITHOUT_PLUS = re.compile(r"254[17]\d{8}")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD_CANDIDATE = re.compile(r"(?<![\w.:-])\d{13,19}(?![\w.:-])")
_JWT = re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
_CALLBACK_TOKEN = re.compile(r"(/callbacks/[^/\s\"']+/)[^/\s\"'?]+")
PHONE_DIGITS_MIN = 8
PHONE_DIGITS_MAX = 15


def _masked_phone(candidate: str) -> str:
    """`+254 712 345 678` -> `+254******678`: international as people write it, national with a
    leading 0, or Kenyan without the plus (how the rails take it). Other digit runs are ids or counts."""
    digits = re.sub(r"\D", "", candidate)
    plus = candidate.startswith("+")
    is_phone = (
        (plus and PHONE_DIGITS_MIN <= len(digits) <= PHONE_DIGITS_MAX)
        or (digits.startswith("0") and 9 <= len(digits) <= 11)
        or _KENYAN_WITHOUT_PLUS.fullmatch(digits) is not None
    )
    if not is_phone:
        return candidate
    compact = ("+" if plus else "") + digits
    return f"{compact[:4]}{'*' * (len(compact) - 7)}{compact[-3:]}"


def _is_iban(candidate: str) -> bool:
    """The ISO 13616 check: the rearranged number, letters as 10..35, is 1 modulo 97."""
    compact = candidate.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _masked_iban(candidate: str) -> str:
    if not _is_iban(candidate):
        return candidate
    compact = candidate.replace(" ", "")
    return f"{compact[:4]}****{compact[-4:]}"


def _masked_card(candidate: str) -> str:
    total = 0
    for index, char in enumerate(reversed(candidate)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return f"{'*' * (len(candidate) - 4)}{candidate[-4:]}" if total % 10 == 0 else candidate


def redact_text(text: str) -> str:
    """Free text (a reason, a header, a payload that is not JSON) with the forbidden kinds masked."""
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL
    text = _JWT.sub(REDACTED, text)
    text = _CALLBACK_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = _IBAN_CANDIDATE.sub(lambda match: _masked_iban(match.group()), text)
    text = _CARD_CANDIDATE.sub(lambda match: _masked_card(match.group()), text)
    return _PHONE_CANDIDATE.sub(lambda match: _masked_phone(match.group()), text)


def bounded(text: str, chars_max: int) -> str:
    assert chars_max > len(TRUNCATED)
    return text if len(text) <= chars_max else text[: chars_max - len(TRUNCATED)] + TRUNCATED


def _redact_fields(value: Any, depth: int) -> Any:
    if depth >= JSON_DEPTH_MAX:
        return value
    if isinstance(value, Mapping):
        return {
            name: REDACTED if SENSITIVE_FIELD.search(str(name)) else _redact_fields(item, depth + 1)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_fields(item, depth + 1) for item in value]
    return value


def payload_preview(value: bytes | None) -> str | None:
    """The record's value as compact JSON (or text when it is not JSON), masked, at most
    `PAYLOAD_PREVIEW_CHARS_MAX` characters; None for a record without a value (a tombstone)."""
    if value is None:
        return None
    try:
        text = orjson.dumps(_redact_fields(orjson.loads(value), 0)).decode()
    except orjson.JSONDecodeError:
        text = value.decode("utf-8", errors="replace")
    return bounded(redact_text(text), PAYLOAD_PREVIEW_CHARS_MAX)
