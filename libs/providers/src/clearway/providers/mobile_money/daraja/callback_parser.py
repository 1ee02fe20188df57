"""Parse Daraja's STK callback (`Body.stkCallback`) into a domain `StkCallback`.

Strict about what decides money (CheckoutRequestID, ResultCode, and on success Amount and
MpesaReceiptNumber), lenient about the rest: a success whose date or phone cannot be read is
still a success, because the customer's money has moved either way.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearway.platform.errors import ProblemError
from clearway.platform.logging import get_logger
from clearway.platform.money import to_minor
from clearway.providers.mobile_money.contract import StkCallback
from clearway.providers.mobile_money.daraja.payloads import EAT, MPESA_CURRENCY
from clearway.providers.mobile_money.errors import CallbackInvalid, InvalidPhoneNumber
from clearway.providers.mobile_money.phone import normalise_phone
from clearway.providers.mobile_money.result_codes import ResultCode

CALLBACK_BODY_BYTES_MAX = 64 * 1024
METADATA_ITEMS_MAX = 32
ID_LENGTH_MAX = 128

logger = get_logger("clearway.providers.daraja")


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(alias="Name", max_length=64)
    value: int | Decimal | str | None = Field(default=None, alias="Value")


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item] = Field(default_factory=list, alias="Item", max_length=METADATA_ITEMS_MAX)


class _StkCallback(BaseModel):
    model_config = ConfigDict(extra="ignore")
    merchant_request_id: str = Field(alias="MerchantRequestID", min_length=1, max_length=ID_LENGTH_MAX)
    checkout_request_id: str = Field(alias="CheckoutRequestID", min_length=1, max_length=ID_LENGTH_MAX)
    result_code: int = Field(alias="ResultCode")  # an int or a numeric string, depending on the sender
    result_desc: str = Field(default="", alias="ResultDesc", max_length=1024)
    metadata: _Metadata | None = Field(default=None, alias="CallbackMetadata")


class _Body(BaseModel):
    stk_callback: _StkCallback = Field(alias="stkCallback")


class _Envelope(BaseModel):
    body: _Body = Field(alias="Body")


def _decode(body: bytes) -> Any:
    if len(body) > CALLBACK_BODY_BYTES_MAX:
        raise CallbackInvalid("callback body is too large")
    try:
        # Decimal, never float: an amount like 100.00 must not pass through binary floating point.
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise CallbackInvalid("callback body is not JSON") from error


def _amount_minor(value: int | Decimal | str | None) -> int:
    if value is None or isinstance(value, bool):
        raise CallbackInvalid("successful callback has no Amount")
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    try:
        amount_minor = to_minor(text, MPESA_CURRENCY)
    except ProblemError as error:
        raise CallbackInvalid("callback Amount is not a KES amount") from error
    if amount_minor <= 0:
        raise CallbackInvalid("callback Amount must be positive")
    return amount_minor


def _transaction_date(value: int | Decimal | str | None) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    except ValueError:
        logger.warning("daraja callback transaction date unreadable")
        return None


def _phone(value: int | Decimal | str | None, default_region: str) -> str | None:
    if value is None:
        return None
    text = str(value)
    try:
        return normalise_phone(text if text.startswith(("+", "0")) else f"+{text}", default_region=default_region)
    except InvalidPhoneNumber:
        # Safaricom masks or hashes the number for some merchants; the payment still stands.
        return None


def parse_daraja_stk_callback(body: bytes, *, default_region: str = "KE") -> StkCallback:
    """Raise CallbackInvalid for anything that is not a well-formed STK callback."""
    try:
        parsed = _Envelope.model_validate(_decode(body)).body.stk_callback
    except ValidationError as error:
        raise CallbackInvalid(f"not a Daraja STK callback ({error.error_count()} problems)") from error
    result_code = ResultCode(parsed.result_code)
    items = {item.name: item.value for item in (parsed.metadata.items if parsed.metadata else [])}
    amount_minor: int | None = None
    receipt: str | None = None
    if result_code.is_success:
        amount_minor = _amount_minor(items.get("Amount"))
        receipt = str(items.get("MpesaReceiptNumber") or "")
        if not receipt or len(receipt) > ID_LENGTH_MAX:
            raise CallbackInvalid("successful callback has no MpesaReceiptNumber")
    transaction_date = _transaction_date(items["TransactionDate"]) if "TransactionDate" in items else None
    return StkCallback(
        checkout_request_id=parsed.checkout_request_id,
        merchant_request_id=parsed.merchant_request_id,
        result_code=result_code,
        result_desc=parsed.result_desc,
        currency=MPESA_CURRENCY,
        amount_minor=amount_minor,
        mpesa_receipt=receipt,
        phone=_phone(items.get("PhoneNumber"), default_region),
        transaction_date=transaction_date,
    )
