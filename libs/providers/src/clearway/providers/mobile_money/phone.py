"""Phone numbers: validated with `phonenumbers`, stored as E.164, shown masked (seed 001).

Numbers reach us typed by people ("0712 345 678", "254712345678", "+254712345678"); every one
is normalised to E.164 once at the edge so equality, dedupe and scenario lookups just work.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from clearway.providers.mobile_money.errors import InvalidPhoneNumber

DEFAULT_REGION = "KE"
PHONE_INPUT_LENGTH_MAX = 32
MASK_VISIBLE_DIGITS = 3
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalise_phone(raw: str, *, default_region: str = DEFAULT_REGION, mobile_only: bool = True) -> str:
    """`normalise_phone("0712 345 678") == "+254712345678"`; raises InvalidPhoneNumber.

    `default_region` (ISO 3166 alpha-2) applies to numbers written without a country code.
    """
    if not isinstance(raw, str) or not raw.strip() or len(raw) > PHONE_INPUT_LENGTH_MAX:
        raise InvalidPhoneNumber("phone number is empty or too long")
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except NumberParseException as error:
        raise InvalidPhoneNumber(f"{mask_phone(raw)} is not a phone number") from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{mask_phone(raw)} is not a valid phone number")
    if mobile_only and phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise InvalidPhoneNumber(f"{mask_phone(raw)} is not a mobile number")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    assert e164.startswith("+") and e164[1:].isdigit()
    return e164


def is_e164(value: str) -> bool:
    """True when `value` is already a valid number in canonical E.164 form."""
    try:
        return normalise_phone(value, mobile_only=False) == value
    except InvalidPhoneNumber:
        return False


def phone_country_code(e164: str) -> int:
    assert e164.startswith("+"), "expects E.164"
    try:
        country_code = phonenumbers.parse(e164).country_code
    except NumberParseException as error:
        raise InvalidPhoneNumber(f"{mask_phone(e164)} is not a phone number") from error
    assert country_code is not None, "an E.164 number always has a country code"
    return int(country_code)


def mask_phone(phone: str, *, visible_digits: int = MASK_VISIBLE_DIGITS) -> str:
    """`mask_phone("+254712345678") == "+254******678"`. Never raises: display code must not fail.

    Keeps the country code and the last digits; anything unparseable keeps only its last digits.
    """
    assert 0 <= visible_digits <= 4, "showing more than 4 digits defeats the mask"
    text = phone if isinstance(phone, str) else ""
    try:
        parsed = phonenumbers.parse(text[:PHONE_INPUT_LENGTH_MAX], DEFAULT_REGION)
        national = phonenumbers.national_significant_number(parsed)
        if len(national) > visible_digits:
            hidden = "*" * (len(national) - visible_digits)
            return f"+{parsed.country_code}{hidden}{national[len(national) - visible_digits :]}"
    except NumberParseException:
        pass
    digits = "".join(character for character in text[:PHONE_INPUT_LENGTH_MAX] if character.isdigit())
    if len(digits) <= visible_digits:
        return "***"
    return "*" * (len(digits) - visible_digits) + digits[len(digits) - visible_digits :]
