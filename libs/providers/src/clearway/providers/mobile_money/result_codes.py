"""M-Pesa result codes (STK push and B2C) and what they mean for a payment.

Daraja reports an outcome as a `ResultCode` in callbacks and in status answers. Codes outside
this table are generic failures; the table only names the ones a workflow or a support screen
treats differently, plus the documented B2C codes so a support screen can say what happened.
A few Daraja codes are not numbers (`SFC_IC0003`, `R000001`): `ResultCode.parse` keeps their text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ResultKind(StrEnum):
    SUCCESS = "success"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    CANCELLED_BY_USER = "cancelled_by_user"
    UNREACHABLE = "unreachable"
    WRONG_PIN = "wrong_pin"
    PROCESSING = "processing"
    FAILED = "failed"


NON_NUMERIC_CODE = -1
"""The int a non-numeric Daraja code (`SFC_IC0003`) stands as; its text is on `.value`."""

_KINDS: dict[int, tuple[ResultKind, str]] = {
    0: (ResultKind.SUCCESS, "The service request is processed successfully."),
    # STK: the customer's M-Pesa balance; B2C: our B2C utility account's balance.
    1: (ResultKind.INSUFFICIENT_BALANCE, "The balance is insufficient for the transaction."),
    1032: (ResultKind.CANCELLED_BY_USER, "Request cancelled by user."),
    1037: (ResultKind.UNREACHABLE, "The user could not be reached or did not answer in time."),
    # STK: the customer typed a wrong PIN; B2C: our initiator name or security credential is wrong.
    2001: (ResultKind.WRONG_PIN, "The initiator information is invalid (wrong PIN)."),
    # Seen from the status query while the customer has not answered yet; not an outcome.
    4999: (ResultKind.PROCESSING, "The transaction is still under processing."),
    # Documented B2C result codes (Daraja "Business To Customer", result codes table).
    2: (ResultKind.FAILED, "Declined due to limit rule: less than the minimum transaction amount."),
    3: (ResultKind.FAILED, "Declined due to limit rule: greater than the maximum transaction amount."),
    4: (ResultKind.FAILED, "Declined due to limit rule: would exceed daily transfer limit."),
    8: (ResultKind.FAILED, "Declined due to limit rule: would exceed the maximum balance."),
    11: (ResultKind.FAILED, "The DebitParty is in an invalid state."),
    21: (ResultKind.FAILED, "The initiator is not allowed to initiate this request."),
    1019: (ResultKind.FAILED, "The transaction expired before it was processed."),
    2006: (ResultKind.FAILED, "Declined due to account rule: the account status does not allow this transaction."),
    2028: (ResultKind.FAILED, "The request is not permitted according to product assignment."),
    2040: (ResultKind.FAILED, "The recipient is not a registered M-Pesa customer (credit party type not supported)."),
    8006: (ResultKind.FAILED, "The security credential is locked."),
    NON_NUMERIC_CODE: (ResultKind.FAILED, "The payment failed."),
}

_TEXT_CODES: dict[str, str] = {
    "SFC_IC0003": "The operator does not exist (the recipient phone is not on M-Pesa).",
    "R000001": "The transaction has already been reversed.",
    "R000002": "The OriginalTransactionID is invalid.",
}
TEXT_CODE_LENGTH_MAX = 32


class ResultCode(int):
    """An `int` (so `code == 1032` and JSON just work) that knows what it means.

    `ResultCode(0).is_success`, `ResultCode(1032).kind is ResultKind.CANCELLED_BY_USER`,
    `ResultCode(4999).is_final is False`. Every code but "still processing" is final: the
    payment is over and will not change, so a workflow may settle it on it.
    `.value` is the code as the rail sent it: the int, or the text of a non-numeric code.
    """

    SUCCESS: ClassVar[ResultCode]
    INSUFFICIENT_BALANCE: ClassVar[ResultCode]
    CANCELLED_BY_USER: ClassVar[ResultCode]
    UNREACHABLE: ClassVar[ResultCode]
    WRONG_PIN: ClassVar[ResultCode]
    PROCESSING: ClassVar[ResultCode]
    EXPIRED: ClassVar[ResultCode]
    INITIATOR_INVALID: ClassVar[ResultCode]
    RECIPIENT_NOT_REGISTERED: ClassVar[ResultCode]

    _text: str | None = None

    @classmethod
    def parse(cls, raw: int | str) -> ResultCode:
        """`parse("0") == 0`, `parse(2001) == 2001`, `parse("SFC_IC0003").value == "SFC_IC0003"`."""
        if isinstance(raw, bool):
            raise ValueError("a result code is not a boolean")
        if isinstance(raw, int):
            return cls(raw)
        text = raw.strip()
        if text.lstrip("-").isdigit():
            return cls(int(text))
        if not text or len(text) > TEXT_CODE_LENGTH_MAX or not all(c.isalnum() or c in "_-." for c in text):
            raise ValueError("unreadable result code")
        code = cls(NON_NUMERIC_CODE)
        code._text = text
        return code

    @property
    def value(self) -> int | str:
        return self._text if self._text is not None else int(self)

    @property
    def kind(self) -> ResultKind:
        known = _KINDS.get(int(self))
        return known[0] if known else ResultKind.FAILED

    @property
    def is_success(self) -> bool:
        return self.kind is ResultKind.SUCCESS

    @property
    def is_final(self) -> bool:
        return self.kind is not ResultKind.PROCESSING

    @property
    def description(self) -> str:
        if self._text is not None:
            return _TEXT_CODES.get(self._text, "The payment failed.")
        known = _KINDS.get(int(self))
        return known[1] if known else "The payment failed."

    def __repr__(self) -> str:
        return f"ResultCode({self.value!r}, {self.kind.value})"


ResultCode.SUCCESS = ResultCode(0)
ResultCode.INSUFFICIENT_BALANCE = ResultCode(1)
ResultCode.CANCELLED_BY_USER = ResultCode(1032)
ResultCode.UNREACHABLE = ResultCode(1037)
ResultCode.WRONG_PIN = ResultCode(2001)
ResultCode.PROCESSING = ResultCode(4999)
ResultCode.EXPIRED = ResultCode(1019)
ResultCode.INITIATOR_INVALID = ResultCode(2001)
ResultCode.RECIPIENT_NOT_REGISTERED = ResultCode(2040)
