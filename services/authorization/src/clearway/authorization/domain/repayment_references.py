"""A card account's repayment reference: what a cardholder quotes on a bank transfer so that funding's
`transfer.created` repays the right account (issue 10 §4).

An ISO 11649 creditor reference (`RF` + two check digits + up to 21 characters), as funding's invoice
references are: banks carry it intact and a mistyped one fails its check digits instead of repaying
another account. The body is `CA` and the last 19 characters of the account id's ULID (its random
part and a little of its time), so it is fixed when the account is created, needs no storage (the account is
found by the tail of its id), and never collides with funding's references (another body prefix).
"""

from __future__ import annotations

import re

from clearway.authorization.domain.card_accounts import CARD_ACCOUNT_ID_PREFIX

BODY_PREFIX = "CA"
BODY_ID_CHARACTERS = 19  # 2 + 19 = 21, the longest body ISO 11649 allows
_SEPARATORS = re.compile(r"[\s\-_.]")
_BODY = re.compile(r"^[0-9A-Z]{1,21}$")


def _numeric(text: str) -> int:
    """ISO 7064 mod 97-10 digits: 0-9 stay, A-Z become 10-35."""
    return int("".join(str(int(character, 36)) for character in text))


def _check_digits(body: str) -> str:
    return f"{98 - _numeric(body + 'RF00') % 97:02d}"


def is_valid(reference: str) -> bool:
    if len(reference) < 5 or not reference.startswith("RF") or not reference[2:4].isdigit():
        return False
    body = reference[4:]
    return bool(_BODY.match(body)) and _numeric(body + "RF" + reference[2:4]) % 97 == 1


def repayment_reference_for(card_account_id: str) -> str | None:
    """None for an id that is not `cac_` + a ULID (only rows written by hand have one)."""
    assert card_account_id.startswith(f"{CARD_ACCOUNT_ID_PREFIX}_"), card_account_id
    tail = card_account_id.split("_", 1)[1][-BODY_ID_CHARACTERS:].upper()
    if len(tail) != BODY_ID_CHARACTERS or not _BODY.match(tail):
        return None
    body = BODY_PREFIX + tail
    reference = f"RF{_check_digits(body)}{body}"
    assert is_valid(reference), reference
    return reference


def id_tail_of(reference: str) -> str | None:
    """The end of the account id a (normalized) reference was computed from, as the id spells it."""
    if not reference[4:].startswith(BODY_PREFIX) or len(reference) != 4 + len(BODY_PREFIX) + BODY_ID_CHARACTERS:
        return None
    return reference[4 + len(BODY_PREFIX) :].lower()


def normalize(text: str | None) -> str | None:
    """What a payer typed, as stored: separators dropped, upper case; None unless a valid RF reference
    of a card account."""
    if not text:
        return None
    compact = _SEPARATORS.sub("", text).upper()
    return compact if is_valid(compact) and compact[4:].startswith(BODY_PREFIX) else None
