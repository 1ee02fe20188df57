"""Daraja's asynchronous B2C answers: parse them into `B2cResult`, and build them (sandbox, tests).

Three bodies share Daraja's `{"Result": {...}}` shape and may reach one ResultURL:
- a B2C payment result: ResultParameters TransactionAmount, TransactionReceipt,
  TransactionCompletedDateTime ("06.07.2024 22:48:52", Nairobi time), ReceiverPartyPublicName;
- a TransactionStatus answer: ResultParameters TransactionStatus, ReceiptNo, Amount, FinalisedTime,
  OriginatorConversationID (of the queried payment; the top-level one is the query's own);
- a reversal result: ResultParameters OriginalTransactionID (the reversed receipt), Amount, TransCompletedTime.
The QueueTimeOutURL notice is read by `parse_daraja_b2c_timeout` and only names the payment.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clearway.platform.errors import ProblemError
from clearway.platform.logging import get_logger
from clearway.platform.money import to_minor
from clearway.providers.mobile_money.b2c import B2cResult, B2cResultKind, is_originator_conversation_id
from clearway.providers.mobile_money.daraja.payloads import EAT, MPESA_CURRENCY, whole_shillings
from clearway.providers.mobile_money.errors import CallbackInvalid
from clearway.providers.mobile_money.result_codes import ResultCode

CALLBACK_BODY_BYTES_MAX = 64 * 1024
PARAMETERS_MAX = 64
ID_LENGTH_MAX = 128
TEXT_LENGTH_MAX = 256
STATUS_ONLY_KEYS = frozenset({"TransactionStatus", "ReceiptNo", "FinalisedTime", "DebitPartyName", "CreditPartyName"})
OCCASION_KEY = "Occasion"
_AMOUNT_MAJOR_MAX = 10**9  # builders only; the rail's ceiling is checked when paying

logger = get_logger("clearway.providers.daraja")

Value = int | Decimal | str | None


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str = Field(alias="Key", max_length=64)
    value: Value = Field(default=None, alias="Value")


def _as_list(value: object) -> object:
    # Daraja sends a lone item as an object rather than a one-item array.
    return [value] if isinstance(value, dict) else value


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item] = Field(default_factory=list, alias="ResultParameter", max_length=PARAMETERS_MAX)
    _one_or_many = field_validator("items", mode="before")(_as_list)


class _Reference(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item] = Field(default_factory=list, alias="ReferenceItem", max_length=PARAMETERS_MAX)
    _one_or_many = field_validator("items", mode="before")(_as_list)


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore")
    result_code: int | str = Field(alias="ResultCode")
    result_desc: str = Field(default="", alias="ResultDesc", max_length=1024)
    originator_conversation_id: str = Field(alias="OriginatorConversationID", min_length=1, max_length=ID_LENGTH_MAX)
    conversation_id: str | None = Field(default=None, alias="ConversationID", max_length=ID_LENGTH_MAX)
    transaction_id: str | None = Field(default=None, alias="TransactionID", max_length=ID_LENGTH_MAX)
    parameters: _Parameters | None = Field(default=None, alias="ResultParameters")
    reference: _Reference | None = Field(default=None, alias="ReferenceData")


class _Envelope(BaseModel):
    result: _Result = Field(alias="Result")


def _decode(body: bytes) -> Any:
    if len(body) > CALLBACK_BODY_BYTES_MAX:
        raise CallbackInvalid("callback body is too large")
    try:
        # Decimal, never float: an amount like 100.00 must not pass through binary floating point.
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise CallbackInvalid("callback body is not JSON") from error


def _text(value: Value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = (format(value, "f") if isinstance(value, Decimal) else str(value)).strip()
    return text[:TEXT_LENGTH_MAX] or None


def _amount_minor(value: Value) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        amount_minor = to_minor(text, MPESA_CURRENCY)
    except ProblemError:
        return None
    return amount_minor if amount_minor > 0 else None


def _time(value: Value, pattern: str) -> datetime | None:
    text = _text(value)
    try:
        return datetime.strptime(text or "", pattern).replace(tzinfo=EAT)
    except ValueError:
        if text is not None:
            logger.warning("daraja b2c result time unreadable")
        return None


def _kind(params: dict[str, Value], refs: dict[str, Value]) -> B2cResultKind:
    if "OriginalTransactionID" in params:
        return B2cResultKind.REVERSAL
    if STATUS_ONLY_KEYS & params.keys() or OCCASION_KEY in refs:
        return B2cResultKind.STATUS_QUERY
    return B2cResultKind.PAYMENT


def parse_daraja_b2c_result(body: bytes) -> B2cResult:
    """Raise CallbackInvalid for anything that is not a well-formed Daraja result."""
    try:
        parsed = _Envelope.model_validate(_decode(body)).result
        result_code = ResultCode.parse(parsed.result_code)
    except (ValidationError, ValueError) as error:
        raise CallbackInvalid("not a Daraja B2C result") from error
    params = {item.key: item.value for item in (parsed.parameters.items if parsed.parameters else [])}
    refs = {item.key: item.value for item in (parsed.reference.items if parsed.reference else [])}
    kind = _kind(params, refs)
    if kind is B2cResultKind.STATUS_QUERY:
        return _status_result(parsed, result_code, params, refs)
    if kind is B2cResultKind.REVERSAL:
        return B2cResult(
            originator_conversation_id=parsed.originator_conversation_id,
            kind=kind,
            result_code=result_code,
            result_desc=parsed.result_desc,
            currency=MPESA_CURRENCY,
            conversation_id=parsed.conversation_id,
            transaction_id=parsed.transaction_id,
            receipt=_text(params.get("OriginalTransactionID")),
            amount_minor=_amount_minor(params.get("Amount")),
            completed_at=_time(params.get("TransCompletedTime"), "%Y%m%d%H%M%S"),
            receiver_public_name=_text(params.get("CreditPartyPublicName")),
        )
    receipt = _text(params.get("TransactionReceipt")) or parsed.transaction_id
    amount_minor = _amount_minor(params.get("TransactionAmount"))
    if result_code.is_success and (not receipt or amount_minor is None):
        raise CallbackInvalid("successful B2C result has no TransactionReceipt or TransactionAmount")
    return B2cResult(
        originator_conversation_id=parsed.originator_conversation_id,
        kind=kind,
        result_code=result_code,
        result_desc=parsed.result_desc,
        currency=MPESA_CURRENCY,
        conversation_id=parsed.conversation_id,
        transaction_id=parsed.transaction_id,
        receipt=receipt if result_code.is_success else None,
        amount_minor=amount_minor if result_code.is_success else None,
        completed_at=_time(params.get("TransactionCompletedDateTime"), "%d.%m.%Y %H:%M:%S"),
        receiver_public_name=_text(params.get("ReceiverPartyPublicName")),
    )


def _status_result(
    parsed: _Result, result_code: ResultCode, params: dict[str, Value], refs: dict[str, Value]
) -> B2cResult:
    # The top-level OriginatorConversationID is the query's own; the payment's is a parameter,
    # and our Occasion (set to the payment's id) is echoed in ReferenceData.
    ocid = _text(params.get("OriginatorConversationID")) or _text(refs.get(OCCASION_KEY))
    if ocid is None or not is_originator_conversation_id(ocid):
        raise CallbackInvalid("Daraja status result does not name the queried payment")
    return B2cResult(
        originator_conversation_id=ocid,
        kind=B2cResultKind.STATUS_QUERY,
        result_code=result_code,
        result_desc=parsed.result_desc,
        currency=MPESA_CURRENCY,
        conversation_id=_text(params.get("ConversationID")),
        transaction_id=parsed.transaction_id,
        receipt=_text(params.get("ReceiptNo")),
        amount_minor=_amount_minor(params.get("Amount")),
        completed_at=_time(params.get("FinalisedTime"), "%Y%m%d%H%M%S"),
        receiver_public_name=_text(params.get("CreditPartyName")),
        transaction_status=_text(params.get("TransactionStatus")),
    )


def parse_daraja_b2c_timeout(body: bytes) -> str:
    """A QueueTimeOutURL notice -> the OriginatorConversationID it names."""
    decoded = _decode(body)
    holder = decoded.get("Result", decoded) if isinstance(decoded, dict) else None
    ocid = holder.get("OriginatorConversationID") if isinstance(holder, dict) else None
    if not isinstance(ocid, str) or not 0 < len(ocid) <= ID_LENGTH_MAX:
        raise CallbackInvalid("timeout notice does not name an OriginatorConversationID")
    return ocid


def _envelope(result: dict[str, object], parameters: list[dict[str, object]] | None) -> bytes:
    if parameters is not None:
        result["ResultParameters"] = {"ResultParameter": parameters}
    return json.dumps({"Result": result}).encode()


def _head(
    code: ResultCode, desc: str | None, ocid: str, conversation_id: str, transaction_id: str
) -> dict[str, object]:
    return {
        "ResultType": 0,
        "ResultCode": code.value,
        "ResultDesc": desc if desc is not None else code.description,
        "OriginatorConversationID": ocid,
        "ConversationID": conversation_id,
        "TransactionID": transaction_id,
    }


def build_daraja_b2c_result(
    *,
    originator_conversation_id: str,
    conversation_id: str,
    transaction_id: str,
    result_code: ResultCode,
    result_desc: str | None = None,
    amount_minor: int | None = None,
    currency: str = MPESA_CURRENCY,
    receipt: str | None = None,
    completed_at: datetime | None = None,
    receiver_public_name: str | None = None,
) -> bytes:
    """A B2C payment result as Daraja posts it; a success needs amount_minor, receipt and completed_at."""
    head = _head(result_code, result_desc, originator_conversation_id, conversation_id, transaction_id)
    head["ReferenceData"] = {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": "https://sandbox.invalid/b2c"}}
    if not result_code.is_success:
        return _envelope(head, None)
    assert amount_minor is not None and receipt and completed_at, "a successful result needs its details"
    return _envelope(
        head,
        [
            {
                "Key": "TransactionAmount",
                "Value": whole_shillings(amount_minor, currency, amount_major_max=_AMOUNT_MAJOR_MAX),
            },
            {"Key": "TransactionReceipt", "Value": receipt},
            {"Key": "ReceiverPartyPublicName", "Value": receiver_public_name or "254700000000 - SANDBOX CUSTOMER"},
            {
                "Key": "TransactionCompletedDateTime",
                "Value": completed_at.astimezone(EAT).strftime("%d.%m.%Y %H:%M:%S"),
            },
            {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
        ],
    )


def build_daraja_b2c_reversal_result(
    *,
    originator_conversation_id: str,
    conversation_id: str,
    transaction_id: str,
    original_receipt: str,
    amount_minor: int,
    completed_at: datetime,
    currency: str = MPESA_CURRENCY,
    result_code: ResultCode = ResultCode.SUCCESS,
    result_desc: str | None = None,
) -> bytes:
    """A reversal result (Daraja's Reversal API shape) for the payment with `original_receipt`."""
    head = _head(result_code, result_desc, originator_conversation_id, conversation_id, transaction_id)
    if not result_code.is_success:
        return _envelope(head, None)
    return _envelope(
        head,
        [
            {"Key": "Amount", "Value": whole_shillings(amount_minor, currency, amount_major_max=_AMOUNT_MAJOR_MAX)},
            {"Key": "TransCompletedTime", "Value": int(completed_at.astimezone(EAT).strftime("%Y%m%d%H%M%S"))},
            {"Key": "OriginalTransactionID", "Value": original_receipt},
        ],
    )


def build_daraja_b2c_status_result(
    *,
    originator_conversation_id: str,
    query_originator_conversation_id: str,
    query_conversation_id: str,
    result_code: ResultCode = ResultCode.SUCCESS,
    transaction_status: str = "Completed",
    receipt: str | None = None,
    amount_minor: int | None = None,
    finalised_at: datetime | None = None,
    conversation_id: str | None = None,
) -> bytes:
    """A TransactionStatus answer about our payment `originator_conversation_id` (service tests)."""
    head = _head(result_code, None, query_originator_conversation_id, query_conversation_id, "NOT0000000")
    head["ReferenceData"] = {"ReferenceItem": {"Key": OCCASION_KEY, "Value": originator_conversation_id}}
    if not result_code.is_success:
        return _envelope(head, None)
    parameters: list[dict[str, object]] = [
        {"Key": "OriginatorConversationID", "Value": originator_conversation_id},
        {"Key": "TransactionStatus", "Value": transaction_status},
        {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
    ]
    if receipt:
        parameters.append({"Key": "ReceiptNo", "Value": receipt})
    if amount_minor is not None:
        amount_major = whole_shillings(amount_minor, MPESA_CURRENCY, amount_major_max=_AMOUNT_MAJOR_MAX)
        parameters.append({"Key": "Amount", "Value": str(amount_major)})
    if finalised_at is not None:
        parameters.append({"Key": "FinalisedTime", "Value": finalised_at.astimezone(EAT).strftime("%Y%m%d%H%M%S")})
    if conversation_id:
        parameters.append({"Key": "ConversationID", "Value": conversation_id})
    return _envelope(head, parameters)


def build_daraja_b2c_timeout(*, originator_conversation_id: str, conversation_id: str) -> bytes:
    """A QueueTimeOutURL notice: names the payment, carries no ResultCode (so no result parser takes it)."""
    return json.dumps(
        {
            "Result": {
                "ResultType": 1,
                "ResultDesc": "The request timed out in the M-Pesa queue.",
                "OriginatorConversationID": originator_conversation_id,
                "ConversationID": conversation_id,
            }
        }
    ).encode()
