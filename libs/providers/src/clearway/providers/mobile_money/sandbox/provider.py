"""`SandboxProvider`: an in-memory M-Pesa for development and tests, for pushes and payouts.

It behaves like Daraja from the workflow's side: a push (or payout) is accepted at once, the
simulated customer (or M-Pesa) answers after the scenario's delay, and the callback is the same
Daraja JSON the real rail produces (so the service's callback handler is exercised unchanged).
Callbacks go to injected async sinks: `deliver(body)` for pushes, `set_b2c_deliver(result,
timeout)` for payouts. They are sent by `deliver_due()` (tests, with a ManualClock) or by
`run_delivery_loop()` (demos, with the real clock), never from inside the initiating call,
because a real callback cannot overtake the call's own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from ulid import ULID

from clearway.platform.logging import get_logger
from clearway.providers.clock import Clock, utc_now
from clearway.providers.mobile_money.contract import (
    StkCallback,
    StkFailed,
    StkPending,
    StkPushAccepted,
    StkPushRequest,
    StkStatus,
    StkSucceeded,
)
from clearway.providers.mobile_money.daraja.callback_builder import build_daraja_stk_callback
from clearway.providers.mobile_money.daraja.callback_parser import parse_daraja_stk_callback
from clearway.providers.mobile_money.daraja.payloads import kenyan_msisdn, whole_shillings
from clearway.providers.mobile_money.errors import ProviderRejected
from clearway.providers.mobile_money.phone import DEFAULT_REGION, mask_phone
from clearway.providers.mobile_money.sandbox.b2c import SandboxB2c
from clearway.providers.mobile_money.sandbox.core import REQUESTS_KEPT_MAX as REQUESTS_KEPT_MAX
from clearway.providers.mobile_money.sandbox.core import Deliver, RequestKind, SandboxRequest
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome, Scenario

__all__ = ["Deliver", "SandboxProvider", "SandboxRequest"]

DELIVERIES_PER_CALL_MAX = 1_000
AMOUNT_MAJOR_MAX = 250_000
logger = get_logger("clearway.providers.sandbox")


class SandboxProvider(SandboxB2c):
    """Implements `MobileMoneyProvider` and `MobileMoneyPayoutProvider` in memory, with an injectable clock.

    Request ids are ULIDs, never a counter: the platform stores them with a unique constraint and
    keeps them across restarts, while this simulator forgets everything when its process stops.
    A counter from 1 would hand a restarted platform ids it already holds (issue 12, defect 1).
    """

    def __init__(
        self,
        deliver: Deliver | None = None,
        *,
        clock: Clock = utc_now,
        default_scenario: Scenario = Scenario(SandboxOutcome.APPROVE),
        callback_token: str | None = None,
        id_prefix: str = "SBX",
        default_region: str = DEFAULT_REGION,
    ) -> None:
        super().__init__(
            clock=clock,
            default_scenario=default_scenario,
            callback_token=callback_token,
            id_prefix=id_prefix,
            default_region=default_region,
        )
        self._deliver = deliver

    def set_deliver(self, deliver: Deliver) -> None:
        """Wire the push callback sink after construction (an app may exist only after the provider)."""
        self._deliver = deliver

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted:
        # The same rules as M-Pesa, so code that passes here does not fail against Daraja.
        whole_shillings(request.amount_minor, request.currency, amount_major_max=AMOUNT_MAJOR_MAX)
        kenyan_msisdn(request.phone)
        unique = str(ULID())
        scenario = self.scenarios.take(request.phone)
        now = self._clock()
        record = SandboxRequest(
            checkout_request_id=f"ws_CO_{self._id_prefix}_{unique}",
            merchant_request_id=f"{self._id_prefix}-{unique}-1",
            phone=request.phone,
            amount_minor=request.amount_minor,
            currency=request.currency,
            account_reference=request.account_reference,
            outcome=scenario.outcome,
            requested_at=now,
            answers_at=now + timedelta(milliseconds=scenario.delay_ms),
            receipt=self._receipt(unique) if scenario.outcome.result_code.is_success else None,
            callback_due=scenario.outcome.sends_callback,
        )
        self._remember(record)
        logger.info(
            "sandbox stk push accepted",
            checkout_request_id=record.checkout_request_id,
            phone=mask_phone(request.phone),
            outcome=scenario.outcome.value,
            delay_ms=scenario.delay_ms,
        )
        return StkPushAccepted(
            merchant_request_id=record.merchant_request_id,
            checkout_request_id=record.checkout_request_id,
            customer_message="Success. Request accepted for processing",
        )

    def _push(self, checkout_request_id: str) -> SandboxRequest:
        record = self.request(checkout_request_id)
        if record.kind is not RequestKind.C2B:
            raise ProviderRejected("not a sandbox STK push", provider_code="SANDBOX_NOT_A_PUSH")
        return record

    async def query_stk_status(self, checkout_request_id: str) -> StkStatus:
        record = self._push(checkout_request_id)
        if self._clock() < record.answers_at:
            return StkPending(checkout_request_id)
        code = record.outcome.result_code
        if code.is_success:
            return StkSucceeded(
                checkout_request_id=checkout_request_id,
                currency=record.currency,
                receipt=record.receipt,
                amount_minor=record.amount_minor,
                phone=record.phone,
            )
        return StkFailed(checkout_request_id, code, code.description)

    def callback_body(self, checkout_request_id: str) -> bytes:
        """The Daraja-shaped callback for an answered push (also for lost ones, for replay tests)."""
        record = self._push(checkout_request_id)
        succeeded = record.outcome.result_code.is_success
        return build_daraja_stk_callback(
            merchant_request_id=record.merchant_request_id,
            checkout_request_id=record.checkout_request_id,
            result_code=record.outcome.result_code,
            amount_minor=record.amount_minor if succeeded else None,
            currency=record.currency,
            mpesa_receipt=record.receipt,
            phone=record.phone if succeeded else None,
            transaction_date=record.answers_at if succeeded else None,
        )

    async def _deliver_one(self, request_id: str) -> bool:
        record = self.request(request_id)
        if record.kind is RequestKind.B2C:
            deliver, body = self._b2c_delivery(record)
        else:
            assert self._deliver is not None, "SandboxProvider needs deliver= (or set_deliver) to send callbacks"
            deliver, body = self._deliver, self.callback_body(request_id)
        delivered = await self._send(record.checkout_request_id, deliver, body)
        if not delivered:
            logger.warning("sandbox callback delivery failed", request_id=request_id, kind=record.kind.value)
        return delivered

    async def deliver_due(self) -> int:
        """Send every callback whose time has come (at most DELIVERIES_PER_CALL_MAX); -> how many sent."""
        now = self._clock()
        due = [r.checkout_request_id for r in self._requests.values() if r.callback_due and r.answers_at <= now]
        due = due[:DELIVERIES_PER_CALL_MAX]
        # Marked before any await, so a concurrent caller cannot send the same callback twice.
        for request_id in due:
            self._update(request_id, callback_due=False)
        delivered = 0
        for request_id in due:
            delivered += await self._deliver_one(request_id)
        return delivered

    async def redeliver(self, request_id: str) -> bool:
        """Send an answered request's callback again, as rails sometimes do: for duplicate-handling tests.

        A push's callback, or a payout's result (its timeout notice for the `timeout` outcome);
        `request_id` is a CheckoutRequestID, a ConversationID or an OriginatorConversationID.
        """
        record = self.request(request_id)
        if self._clock() < record.answers_at:
            raise ProviderRejected("the simulated customer has not answered yet", provider_code="SANDBOX_NOT_ANSWERED")
        return await self._deliver_one(record.checkout_request_id)

    async def run_delivery_loop(self, *, poll_interval_ms: int = 100) -> None:
        """Deliver callbacks as they fall due, until cancelled (run it as a task in dev/demo apps)."""
        assert 1 <= poll_interval_ms <= 60_000
        while True:
            await self.deliver_due()
            await asyncio.sleep(poll_interval_ms / 1000)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> StkCallback:
        del headers
        return parse_daraja_stk_callback(body, default_region=self.default_region)
