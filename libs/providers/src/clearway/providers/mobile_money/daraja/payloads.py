"""Pure builders for Daraja request bodies: no I/O, so every field is checked in unit tests.

Daraja's rules: Timestamp is Kenyan local time (EAT, UTC+3, no daylight saving) as
YYYYMMDDHHMMSS; Password is base64(BusinessShortCode + Passkey + Timestamp); Amount is whole
shillings; phone numbers are MSISDNs without the plus (2547XXXXXXXX).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from clearway.platform.money import currency_exponent
from clearway.providers.mobile_money.contract import StkPushRequest
from clearway.providers.mobile_money.daraja.settings import DarajaSettings
from clearway.providers.mobile_money.errors import InvalidStkPushRequest, ProviderError
from clearway.providers.mobile_money.phone import phone_country_code

EAT = timezone(timedelta(hours=3), "EAT")
MPESA_CURRENCY = "KES"
KENYA_COUNTRY_CODE = 254
# Daraja's documented field limits for Lipa na M-Pesa Online.
ACCOUNT_REFERENCE_LENGTH_MAX = 12
TRANSACTION_DESC_LENGTH_MAX = 13


def daraja_timestamp(now: datetime) -> str:
    assert now.tzinfo is not None, "timestamps are built from timezone-aware times only"
    return now.astimezone(EAT).strftime("%Y%m%d%H%M%S")


def stk_password(business_short_code: str, passkey: str, timestamp: str) -> str:
    assert len(timestamp) == 14 and timestamp.isdigit(), "Timestamp must be YYYYMMDDHHMMSS"
    return base64.b64encode(f"{business_short_code}{passkey}{timestamp}".encode()).decode("ascii")


def whole_shillings(
    amount_minor: int,
    currency: str,
    *,
    amount_major_max: int,
    error: type[ProviderError] = InvalidStkPushRequest,
    what: str = "STK push",
) -> int:
    """`whole_shillings(10_000, "KES", ...) == 100`; refuses cents, other currencies and out-of-range amounts."""
    if currency != MPESA_CURRENCY:
        raise error(f"M-Pesa takes {MPESA_CURRENCY} only, not {currency[:8]}")
    minor_per_major: int = 10 ** currency_exponent(currency)
    if amount_minor % minor_per_major != 0:
        raise error(f"M-Pesa {what} takes whole shillings; the amount has cents")
    amount_major = amount_minor // minor_per_major
    if not 1 <= amount_major <= amount_major_max:
        raise error(f"M-Pesa {what} amount must be 1..{amount_major_max} {MPESA_CURRENCY}")
    return amount_major


def kenyan_msisdn(e164: str, *, error: type[ProviderError] = InvalidStkPushRequest, what: str = "STK push") -> str:
    """`"+254712345678"` -> `"254712345678"`; M-Pesa serves Kenyan numbers only."""
    if phone_country_code(e164) != KENYA_COUNTRY_CODE:
        raise error(f"M-Pesa {what} needs a Kenyan (+254) phone number")
    return e164.removeprefix("+")


def _account_reference(value: str) -> str:
    if len(value) > ACCOUNT_REFERENCE_LENGTH_MAX:
        # Refused, not cut: the reference is what reconciliation matches the statement line on.
        raise InvalidStkPushRequest(f"M-Pesa AccountReference is at most {ACCOUNT_REFERENCE_LENGTH_MAX} characters")
    return value


def build_stk_push_payload(settings: DarajaSettings, request: StkPushRequest, *, timestamp: str) -> dict[str, object]:
    """The body of POST /mpesa/stkpush/v1/processrequest. Holds the password: never log it."""
    msisdn = kenyan_msisdn(request.phone)
    amount_major = whole_shillings(request.amount_minor, request.currency, amount_major_max=settings.amount_major_max)
    return {
        "BusinessShortCode": settings.business_short_code,
        "Password": stk_password(settings.business_short_code, settings.passkey.get_secret_value(), timestamp),
        "Timestamp": timestamp,
        "TransactionType": settings.transaction_type,
        "Amount": amount_major,
        "PartyA": msisdn,
        "PartyB": settings.party_b_or_short_code(),
        "PhoneNumber": msisdn,
        "CallBackURL": settings.callback_url_with_token(),
        "AccountReference": _account_reference(request.account_reference),
        # Only shown on the customer's prompt, so a long description is cut rather than refused.
        "TransactionDesc": (request.description or request.account_reference)[:TRANSACTION_DESC_LENGTH_MAX],
    }


def build_query_payload(settings: DarajaSettings, checkout_request_id: str, *, timestamp: str) -> dict[str, object]:
    """The body of POST /mpesa/stkpushquery/v1/query. Holds the password: never log it."""
    return {
        "BusinessShortCode": settings.business_short_code,
        "Password": stk_password(settings.business_short_code, settings.passkey.get_secret_value(), timestamp),
        "Timestamp": timestamp,
        "CheckoutRequestID": checkout_request_id,
    }
