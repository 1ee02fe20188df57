"""The mobile-money payout (B2C, "business pays a customer") contract: plain domain values.

A payout workflow talks to `MobileMoneyPayoutProvider` only, so the Daraja client and the
sandbox are interchangeable. Our own `originator_conversation_id` (the payout passes its
withdrawal id) names a payment end to end: it is the idempotency key at the rail, and every
result, timeout notice and status answer carries it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from clearway.platform.money import AMOUNT_MINOR_MAX, is_known_currency
from clearway.providers.mobile_money.errors import InvalidB2cPaymentRequest
from clearway.providers.mobile_money.phone import DEFAULT_REGION, is_e164, normalise_phone
from clearway.providers.mobile_money.result_codes import ResultCode

ORIGINATOR_CONVERSATION_ID_LENGTH_MAX = 64
REMARKS_LENGTH_MAX = 100
OCCASION_LENGTH_MAX = 100
B2C_PENDING_DESCRIPTION = "The payment is being processed."
_ORIGINATOR_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_originator_conversation_id(value: str) -> bool:
    return 0 < len(value) <= ORIGINATOR_CONVERSATION_ID_LENGTH_MAX and bool(_ORIGINATOR_CONVERSATION_ID.match(value))


@dataclass(frozen=True, slots=True)
class B2cPaymentRequest:
    """Pay `amount_minor` `currency` from our business account to the customer's `phone`."""

    phone: str
    amount_minor: int
    currency: str
    originator_conversation_id: str
    remarks: str = ""
    occasion: str = ""

    def __post_init__(self) -> None:
        if not _is_amount(self.amount_minor) or not 0 < self.amount_minor <= AMOUNT_MINOR_MAX:
            raise InvalidB2cPaymentRequest("amount_minor must be a positive integer")
        if not is_known_currency(self.currency):
            raise InvalidB2cPaymentRequest(f"{self.currency[:8]!r} is not an ISO 4217 currency")
        if not is_e164(self.phone):
            raise InvalidB2cPaymentRequest("phone must be a valid E.164 number; use B2cPaymentRequest.create")
        if not is_originator_conversation_id(self.originator_conversation_id):
            raise InvalidB2cPaymentRequest(
                f"originator_conversation_id must be 1..{ORIGINATOR_CONVERSATION_ID_LENGTH_MAX} of A-Z a-z 0-9 _ . : -"
            )
        if len(self.remarks) > REMARKS_LENGTH_MAX:
            raise InvalidB2cPaymentRequest(f"remarks must be at most {REMARKS_LENGTH_MAX} characters")
        if len(self.occasion) > OCCASION_LENGTH_MAX:
            raise InvalidB2cPaymentRequest(f"occasion must be at most {OCCASION_LENGTH_MAX} characters")

    @classmethod
    def create(
        cls,
        *,
        phone: str,
        amount_minor: int,
        currency: str,
        originator_conversation_id: str,
        remarks: str = "",
        occasion: str = "",
        default_region: str = DEFAULT_REGION,
    ) -> B2cPaymentRequest:
        """Like the constructor, but accepts the phone number as a person typed it."""
        return cls(
            phone=normalise_phone(phone, default_region=default_region),
            amount_minor=amount_minor,
            currency=currency,
            originator_conversation_id=originator_conversation_id,
            remarks=remarks,
            occasion=occasion,
        )


@dataclass(frozen=True, slots=True)
class B2cAccepted:
    """The rail took the payment on; its outcome comes later by result callback or status query."""

    originator_conversation_id: str
    conversation_id: str
    response_description: str


@dataclass(frozen=True, slots=True)
class B2cPending:
    originator_conversation_id: str
    description: str = B2C_PENDING_DESCRIPTION


@dataclass(frozen=True, slots=True)
class B2cSucceeded:
    """The money reached the customer. A status answer may lack some details (None)."""

    originator_conversation_id: str
    conversation_id: str | None
    receipt: str | None
    amount_minor: int | None
    currency: str
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        assert self.completed_at is None or self.completed_at.tzinfo is not None


@dataclass(frozen=True, slots=True)
class B2cFailed:
    """The payment did not happen and will not: release the reserved funds."""

    originator_conversation_id: str
    result_code: ResultCode
    description: str

    def __post_init__(self) -> None:
        assert not self.result_code.is_success, "a failed payment cannot carry the success code"
        assert self.result_code.is_final, "a still-processing code is B2cPending, not B2cFailed"


@dataclass(frozen=True, slots=True)
class B2cReversed:
    """A payment that had succeeded was reversed by the rail; `receipt` is the reversed payment's."""

    originator_conversation_id: str
    receipt: str | None
    description: str


B2cStatus = B2cPending | B2cSucceeded | B2cFailed | B2cReversed


class B2cResultKind(StrEnum):
    PAYMENT = "payment"
    """The payment's own result (Daraja: the B2C ResultURL callback)."""
    STATUS_QUERY = "status_query"
    """The answer to `query_payment_status` (Daraja: the TransactionStatus result callback)."""
    REVERSAL = "reversal"
    """A reversal of a paid payment."""


# Daraja's TransactionStatus values that settle a status answer; any other value stays pending.
TRANSACTION_STATUS_COMPLETED = "Completed"


@dataclass(frozen=True, slots=True)
class B2cResult:
    """A result callback, verified and parsed: a payment result, a status answer or a reversal.

    `originator_conversation_id` names the payment it is about (for a status answer, the queried
    payment, not the query). `receipt` is the M-Pesa receipt: of the payment, or for a reversal of
    the reversed payment. `receiver_public_name` is Daraja's "2547XXXXXXXX - NAME": personal
    data, never log it.
    """

    originator_conversation_id: str
    kind: B2cResultKind
    result_code: ResultCode
    result_desc: str
    currency: str
    conversation_id: str | None = None
    transaction_id: str | None = None
    receipt: str | None = None
    amount_minor: int | None = None
    completed_at: datetime | None = None
    receiver_public_name: str | None = None
    transaction_status: str | None = None

    def __post_init__(self) -> None:
        assert self.originator_conversation_id, "a result always names its payment"
        if self.kind is B2cResultKind.PAYMENT and self.result_code.is_success:
            assert self.receipt, "a successful payment result carries a receipt"
            assert self.amount_minor is not None and self.amount_minor > 0, "a successful result carries an amount"
        assert self.completed_at is None or self.completed_at.tzinfo is not None

    def to_status(self) -> B2cStatus:
        """The same outcome a status query gives, so one handler serves callbacks and queries."""
        ocid = self.originator_conversation_id
        if self.kind is B2cResultKind.REVERSAL:
            if self.result_code.is_success:
                return B2cReversed(ocid, self.receipt, self.result_desc or "The payment was reversed.")
            # The reversal itself failed (already reversed, unknown receipt, ...): nothing is decided by it.
            return B2cPending(ocid, f"A reversal attempt failed: {self.result_desc}")
        if self.kind is B2cResultKind.STATUS_QUERY:
            return self._status_answer()
        if self.result_code.is_success:
            return self._succeeded()
        if not self.result_code.is_final:
            return B2cPending(ocid, self.result_desc or B2C_PENDING_DESCRIPTION)
        return B2cFailed(ocid, self.result_code, self.result_desc or self.result_code.description)

    def _succeeded(self) -> B2cSucceeded:
        return B2cSucceeded(
            originator_conversation_id=self.originator_conversation_id,
            conversation_id=self.conversation_id,
            receipt=self.receipt,
            amount_minor=self.amount_minor,
            currency=self.currency,
            completed_at=self.completed_at,
        )

    def _status_answer(self) -> B2cStatus:
        # A failed *query* says nothing about the payment, and Daraja does not document the
        # TransactionStatus values of failed payments: only "Completed" settles anything here.
        # A payment failure is decided by its own result callback (or by reconciliation).
        if self.result_code.is_success and (self.transaction_status or "").strip() == TRANSACTION_STATUS_COMPLETED:
            return self._succeeded()
        shown = self.transaction_status or self.result_desc or "unknown"
        return B2cPending(self.originator_conversation_id, f"Status query answered: {shown}"[:200])


class MobileMoneyPayoutProvider(Protocol):
    """A B2C (we pay the customer) mobile-money rail.

    `pay` raises `InvalidB2cPaymentRequest` (a ValueError; nothing sent), `ProviderRejected`
    (refused; nothing will happen), `ProviderUnavailable` (nothing taken on; send again later with
    the SAME originator_conversation_id) or `B2cPaymentOutcomeUnknown` (sent, answer lost: do not
    void; the result callback or `query_payment_status` settles it).

    Callbacks are two steps, each answering its own HTTP status: `verify_callback_token` with
    the token from the callback URL (CallbackRejected -> 401), then `parse_result_callback` or
    `parse_timeout_callback` with the raw body (CallbackInvalid -> 400).
    """

    @property
    def name(self) -> str:
        """Stable rail name ("daraja", "sandbox") to store with the payout."""
        ...

    async def pay(self, request: B2cPaymentRequest) -> B2cAccepted: ...

    async def query_payment_status(self, originator_conversation_id: str, conversation_id: str | None) -> B2cStatus:
        """The sandbox answers at once; Daraja answers `B2cPending` and posts the real answer to
        the status-result URL, where `parse_result_callback` reads it (kind STATUS_QUERY)."""
        ...

    def verify_callback_token(self, presented: str | None) -> None: ...

    def parse_result_callback(self, body: bytes, headers: Mapping[str, str]) -> B2cResult: ...

    def parse_timeout_callback(self, body: bytes, headers: Mapping[str, str]) -> str:
        """A QueueTimeOutURL notice -> the OriginatorConversationID it is about. The payment may
        still complete: query its status, do not void on the notice alone."""
        ...
