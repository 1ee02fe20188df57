"""M-Pesa STK result codes and what they mean for a payment.

Daraja reports the customer's answer as an integer `ResultCode` in the callback and in the
status query. Codes outside this table are generic failures; the table only names the ones a
workflow or a support screen treats differently.
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


_KINDS: dict[int, tuple[ResultKind, str]] = {
    0: (ResultKind.SUCCESS, "The service request is processed successfully."),
    1: (ResultKind.INSUFFICIENT_BALANCE, "The balance is insufficient for the transaction."),
    1032: (ResultKind.CANCELLED_BY_USER, "Request cancelled by user."),
    1037: (ResultKind.UNREACHABLE, "The user could not be reached or did not answer in time."),
    2001: (ResultKind.WRONG_PIN, "The initiator information is invalid (wrong PIN)."),
    # Seen from the status query while the customer has not answered yet; not an outcome.
    4999: (ResultKind.PROCESSING, "The transaction is still under processing."),
}


class ResultCode(int):
    """An `int` (so `code == 1032` and JSON just work) that knows what it means.

    `ResultCode(0).is_success`, `ResultCode(1032).kind is ResultKind.CANCELLED_BY_USER`,
    `ResultCode(4999).is_final is False`. Every code but "still processing" is final: the
    push is over and will not change, so a workflow may settle the payment on it.
    """

    SUCCESS: ClassVar[ResultCode]
    INSUFFICIENT_BALANCE: ClassVar[ResultCode]
    CANCELLED_BY_USER: ClassVar[ResultCode]
    UNREACHABLE: ClassVar[ResultCode]
    WRONG_PIN: ClassVar[ResultCode]
    PROCESSING: ClassVar[ResultCode]

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
        known = _KINDS.get(int(self))
        return known[1] if known else "The payment failed."

    def __repr__(self) -> str:
        return f"ResultCode({int(self)}, {self.kind.value})"


ResultCode.SUCCESS = ResultCode(0)
ResultCode.INSUFFICIENT_BALANCE = ResultCode(1)
ResultCode.CANCELLED_BY_USER = ResultCode(1032)
ResultCode.UNREACHABLE = ResultCode(1037)
ResultCode.WRONG_PIN = ResultCode(2001)
ResultCode.PROCESSING = ResultCode(4999)
