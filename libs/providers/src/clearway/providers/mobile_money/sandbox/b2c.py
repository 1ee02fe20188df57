"""The sandbox's payout (B2C) half: `pay`, status answers, result/timeout callbacks, reversals.

Outcomes (the same scenarios as pushes): `approve` -> a success result with a receipt;
`decline` -> failure 2040 (recipient not a registered M-Pesa customer); `insufficient_funds`
-> failure 1 (our B2C account balance); `timeout` -> a QueueTimeOut notice to the timeout
sink and no result, and status "failed 1019 (expired)" once the delay has passed;
`lost_callback` -> paid, no callback, status "succeeded" once the delay has passed.
Results and notices go to their own sinks (`set_b2c_deliver`), never the C2B one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ulid import ULID

from clearway.platform.logging import get_logger
from clearway.providers.mobile_money.b2c import (
    B2cAccepted,
    B2cFailed,
    B2cPaymentRequest,
    B2cPending,
    B2cResult,
    B2cReversed,
    B2cStatus,
    B2cSucceeded,
)
from clearway.providers.mobile_money.daraja.b2c_callbacks import (
    build_daraja_b2c_result,
    build_daraja_b2c_reversal_result,
    build_daraja_b2c_timeout,
    parse_daraja_b2c_result,
    parse_daraja_b2c_timeout,
)
from clearway.providers.mobile_money.daraja.payloads import kenyan_msisdn, whole_shillings
from clearway.providers.mobile_money.errors import (
    B2cDuplicatePayment,
    B2cPaymentUnknown,
    InvalidB2cPaymentRequest,
    ProviderRejected,
)
from clearway.providers.mobile_money.phone import mask_phone
from clearway.providers.mobile_money.sandbox.core import (
    UNKNOWN_REQUEST,
    Deliver,
    RequestKind,
    SandboxCore,
    SandboxRequest,
)
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome

B2C_AMOUNT_MAJOR_MAX = 250_000
ACCEPTED_DESCRIPTION = "Accept the service request successfully."
REVERSED_DESCRIPTION = "The payment was reversed."
logger = get_logger("clearway.providers.sandbox")


def _paid(record: SandboxRequest) -> bool:
    return record.outcome.b2c_result_code.is_success


class SandboxB2c(SandboxCore):
    _b2c_result_deliver: Deliver | None = None
    _b2c_timeout_deliver: Deliver | None = None

    def set_b2c_deliver(self, result: Deliver, timeout: Deliver) -> None:
        """Wire the payout callback sinks: results (payments, reversals) and queue-timeout notices."""
        self._b2c_result_deliver = result
        self._b2c_timeout_deliver = timeout

    def _payout(self, originator_conversation_id: str) -> SandboxRequest:
        record = self.request(originator_conversation_id)
        if record.kind is not RequestKind.B2C:
            raise ProviderRejected("not a sandbox payout", provider_code="SANDBOX_NOT_A_PAYOUT")
        return record

    async def pay(self, request: B2cPaymentRequest) -> B2cAccepted:
        """Idempotent by originator_conversation_id: a re-send answers the first `B2cAccepted`."""
        known = self._b2c_ids.get(request.originator_conversation_id)
        record = self._requests.get(known) if known else None
        if record is not None:
            if (record.phone, record.amount_minor, record.currency) != (
                request.phone,
                request.amount_minor,
                request.currency,
            ):
                raise B2cDuplicatePayment("this OriginatorConversationID was already used for another payment")
            return self._accepted(record)
        # The same rules as M-Pesa, so code that passes here does not fail against Daraja.
        whole_shillings(
            request.amount_minor,
            request.currency,
            amount_major_max=B2C_AMOUNT_MAJOR_MAX,
            error=InvalidB2cPaymentRequest,
            what="B2C",
        )
        kenyan_msisdn(request.phone, error=InvalidB2cPaymentRequest, what="B2C")
        unique = str(ULID())
        scenario = self.scenarios.take(request.phone)
        now = self._clock()
        record = SandboxRequest(
            checkout_request_id=f"AG_{self._id_prefix}_{unique}",
            merchant_request_id=request.originator_conversation_id,
            phone=request.phone,
            amount_minor=request.amount_minor,
            currency=request.currency,
            account_reference=request.remarks,
            outcome=scenario.outcome,
            requested_at=now,
            answers_at=now + timedelta(milliseconds=scenario.delay_ms),
            receipt=self._receipt(unique) if scenario.outcome.b2c_result_code.is_success else None,
            callback_due=scenario.outcome.sends_callback,
            kind=RequestKind.B2C,
            originator_conversation_id=request.originator_conversation_id,
        )
        self._remember(record)
        logger.info(
            "sandbox b2c payment accepted",
            originator_conversation_id=request.originator_conversation_id,
            conversation_id=record.checkout_request_id,
            phone=mask_phone(request.phone),
            outcome=scenario.outcome.value,
            delay_ms=scenario.delay_ms,
        )
        return self._accepted(record)

    @staticmethod
    def _accepted(record: SandboxRequest) -> B2cAccepted:
        assert record.originator_conversation_id is not None
        return B2cAccepted(record.originator_conversation_id, record.checkout_request_id, ACCEPTED_DESCRIPTION)

    async def query_payment_status(self, originator_conversation_id: str, conversation_id: str | None) -> B2cStatus:
        """Answers at once (Daraja's answer comes by callback instead)."""
        del conversation_id
        try:
            record = self._payout(originator_conversation_id)
        except ProviderRejected as error:
            if error.provider_code != UNKNOWN_REQUEST:
                raise
            # Never submitted here, or submitted to a sandbox that has since died with its process.
            raise B2cPaymentUnknown("no sandbox payout with this id", provider_code=UNKNOWN_REQUEST) from error
        if self._clock() < record.answers_at:
            return B2cPending(originator_conversation_id)
        if record.reversed_at is not None:
            return B2cReversed(originator_conversation_id, record.receipt, REVERSED_DESCRIPTION)
        code = record.outcome.b2c_result_code
        if code.is_success:
            return B2cSucceeded(
                originator_conversation_id=originator_conversation_id,
                conversation_id=record.checkout_request_id,
                receipt=record.receipt,
                amount_minor=record.amount_minor,
                currency=record.currency,
                completed_at=record.answers_at,
            )
        return B2cFailed(originator_conversation_id, code, code.description)

    def b2c_result_body(self, request_id: str) -> bytes:
        """The Daraja-shaped result of an answered payout (also for lost ones, for replay tests)."""
        record = self._payout(request_id)
        assert record.originator_conversation_id is not None
        code = record.outcome.b2c_result_code
        return build_daraja_b2c_result(
            originator_conversation_id=record.originator_conversation_id,
            conversation_id=record.checkout_request_id,
            transaction_id=record.receipt or f"{self._id_prefix}{'0' * (10 - len(self._id_prefix))}",
            result_code=code,
            amount_minor=record.amount_minor if code.is_success else None,
            currency=record.currency,
            receipt=record.receipt,
            completed_at=record.answers_at if code.is_success else None,
            receiver_public_name=f"{kenyan_msisdn(record.phone)} - SANDBOX CUSTOMER",
        )

    def b2c_timeout_body(self, request_id: str) -> bytes:
        record = self._payout(request_id)
        assert record.originator_conversation_id is not None
        return build_daraja_b2c_timeout(
            originator_conversation_id=record.originator_conversation_id, conversation_id=record.checkout_request_id
        )

    def b2c_reversal_body(self, request_id: str) -> bytes:
        record = self._payout(request_id)
        assert record.originator_conversation_id and record.receipt and record.reversed_at and record.reversal_receipt
        return build_daraja_b2c_reversal_result(
            # Daraja names the reversal request here; the sandbox names the payment, so a payout
            # service finds it either by this id or by `receipt` (the reversed payment's).
            originator_conversation_id=record.originator_conversation_id,
            conversation_id=f"AG_{self._id_prefix}_R{record.reversal_receipt}",
            transaction_id=record.reversal_receipt,
            original_receipt=record.receipt,
            amount_minor=record.amount_minor,
            completed_at=record.reversed_at,
            currency=record.currency,
        )

    def _b2c_delivery(self, record: SandboxRequest) -> tuple[Deliver, bytes]:
        """Where a payout's callback goes and what it says: the timeout notice or the result."""
        result, timeout = self._b2c_result_deliver, self._b2c_timeout_deliver
        assert result is not None and timeout is not None, "call set_b2c_deliver(result, timeout) first"
        if record.outcome is SandboxOutcome.TIMEOUT:
            return timeout, self.b2c_timeout_body(record.checkout_request_id)
        return result, self.b2c_result_body(record.checkout_request_id)

    async def reverse_payment(self, originator_conversation_id: str) -> bool:
        """Reverse a paid payout and send the reversal result to the result sink; -> delivered.

        Calling it again re-sends the same reversal (duplicate tests). Refuses a payout that is
        not paid yet, or never will be (ProviderRejected).
        """
        record = self._payout(originator_conversation_id)
        now = self._clock()
        if now < record.answers_at or not _paid(record):
            raise ProviderRejected("only a paid payout can be reversed", provider_code="SANDBOX_NOT_REVERSIBLE")
        if record.reversed_at is None:
            self._update(record.checkout_request_id, reversed_at=now, reversal_receipt=self._receipt(str(ULID())))
        assert self._b2c_result_deliver is not None, "call set_b2c_deliver(result, timeout) first"
        body = self.b2c_reversal_body(record.checkout_request_id)
        delivered = await self._send(record.checkout_request_id, self._b2c_result_deliver, body)
        logger.info("sandbox b2c payment reversed", originator_conversation_id=originator_conversation_id)
        return delivered

    def parse_result_callback(self, body: bytes, headers: Mapping[str, str]) -> B2cResult:
        del headers
        return parse_daraja_b2c_result(body)

    def parse_timeout_callback(self, body: bytes, headers: Mapping[str, str]) -> str:
        del headers
        return parse_daraja_b2c_timeout(body)
