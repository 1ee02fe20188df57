"""IBAN and BIC: validate and normalise with `schwifty` (the ISO 13616 registry and check digits),
and mask for display.

    normalise_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"   # electronic format
    normalise_bic("deutdeff") == "DEUTDEFF"
    mask_account_number("DE89370400440532013000") == "DE89 **** **** **** 3000"
"""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from clearway.providers.bank.errors import InvalidBic, InvalidIban

RAW_LENGTH_MAX = 64  # printed IBANs are at most 34 characters plus spaces
# ISO 20022 BICIdentifier, as the pain.001 schema checks it (SWIFT: letters only in the first six).
_BIC_SCHEMA = re.compile(r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
_MASK = "**** **** ****"


def normalise_iban(raw: str) -> str:
    """The IBAN in electronic format (upper case, no spaces); raises InvalidIban."""
    if not isinstance(raw, str) or not 0 < len(raw) <= RAW_LENGTH_MAX:
        raise InvalidIban("an IBAN is 15..34 letters and digits")
    try:
        iban = IBAN(raw)
    except SchwiftyException as error:
        raise InvalidIban(f"not a valid IBAN: {_reason(error)}") from error
    return iban.compact


def normalise_bic(raw: str) -> str:
    """The BIC (SWIFT code) upper case, 8 or 11 characters; raises InvalidBic."""
    if not isinstance(raw, str) or not 0 < len(raw) <= RAW_LENGTH_MAX:
        raise InvalidBic("a BIC is 8 or 11 letters and digits")
    try:
        bic = BIC(raw, enforce_swift_compliance=True)
    except SchwiftyException as error:
        raise InvalidBic(f"not a valid BIC: {_reason(error)}") from error
    if not _BIC_SCHEMA.match(bic.compact):
        raise InvalidBic("not a valid BIC: its location code is not allowed")
    return bic.compact


def _reason(error: SchwiftyException) -> str:
    # schwifty's messages echo the input; name the kind of problem only (the input may be an account number).
    return {
        "InvalidLength": "wrong length",
        "InvalidStructure": "wrong structure or characters",
        "InvalidCountryCode": "unknown country code",
        "InvalidChecksumDigits": "check digits do not match",
        "InvalidBBANChecksum": "national check digits do not match",
        "InvalidBankCode": "unknown bank code",
        "InvalidBranchCode": "unknown branch code",
        "InvalidAccountCode": "wrong account code",
    }.get(type(error).__name__, "malformed")


def mask_account_number(iban: str) -> str:
    """`"DE89 **** **** **** 3000"`: country and check digits, and the last four characters.

    Never raises; the same mask for every length, so it does not tell the account's length either.
    """
    compact = re.sub(r"\s+", "", iban or "").upper()
    if len(compact) < 12:
        return f"{compact[:2]}** {_MASK}" if len(compact) >= 2 else "****"
    return f"{compact[:4]} {_MASK} {compact[-4:]}"


mask_iban = mask_account_number
"""The same as `mask_account_number` (payout's name for it)."""
