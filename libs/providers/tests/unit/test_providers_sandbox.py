"""The in-memory M-Pesa: scenarios, callbacks on a manual clock, lost callbacks and status queries."""

from __future__ import annotations

import asyncio

import pytest

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    CallbackDelivery,
    CallbackRejected,
    InvalidStkPushRequest,
    ProviderRejected,
    ResultCode,
    SandboxOutcome,
    SandboxProvider,
    StkCallback,
    StkFailed,
    StkPending,
    StkPushRequest,
    StkSucceeded,
    callback_fingerprint,
    classify_callback_delivery,
)

ALICE = "+254712345678"
BOB = "+254722000111"


class CallbackInbox:
    """Stands in for the service's callback endpoint: parses each body as the service would."""

    def __init__(self, provider: SandboxProvider) -> None:
        self.provider = provider
        self.callbacks: list[StkCallback] = []

    async def __call__(self, body: bytes) -> None:
        self.callbacks.append(self.provider.parse_callback(body, {}))


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    provider = SandboxProvider(clock=clock)
    provider.set_deliver(CallbackInbox(provider))
    return provider


def inbox(provider: SandboxProvider) -> list[StkCallback]:
    deliver = provider._deliver
    assert isinstance(deliver, CallbackInbox)
    return deliver.callbacks


def push(phone: str = ALICE, amount_minor: int = 50_000) -> StkPushRequest:
    return StkPushRequest(
        phone=phone, amount_minor=amount_minor, currency="KES", account_reference="TOPUP1", description=""
    )


async def test_approve_after_delay_sends_a_success_callback(sandbox: SandboxProvider, clock: ManualClock) -> None:
    sandbox.set_phone_scenario(ALICE, SandboxOutcome.APPROVE, delay_ms=5_000)
    accepted = await sandbox.initiate_stk_push(push())

    assert await sandbox.deliver_due() == 0, "no callback can overtake the push's own answer"
    assert isinstance(await sandbox.query_stk_status(accepted.checkout_request_id), StkPending)
    clock.advance(ms=4_999)
    assert await sandbox.deliver_due() == 0

    clock.advance(ms=1)
    assert await sandbox.deliver_due() == 1
    [callback] = inbox(sandbox)
    assert callback.checkout_request_id == accepted.checkout_request_id
    assert callback.result_code.is_success
    assert (callback.amount_minor, callback.currency, callback.phone) == (50_000, "KES", ALICE)
    assert callback.mpesa_receipt and len(callback.mpesa_receipt) == 10
    assert await sandbox.query_stk_status(accepted.checkout_request_id) == StkSucceeded(
        accepted.checkout_request_id, "KES", callback.mpesa_receipt, 50_000, ALICE
    )
    assert await sandbox.deliver_due() == 0, "each callback is sent once"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (SandboxOutcome.DECLINE, 1032),
        (SandboxOutcome.TIMEOUT, 1037),
        (SandboxOutcome.INSUFFICIENT_FUNDS, 1),
    ],
)
async def test_failing_outcomes_send_their_result_codes(
    sandbox: SandboxProvider, outcome: SandboxOutcome, code: int
) -> None:
    sandbox.set_phone_scenario(ALICE, outcome)
    accepted = await sandbox.initiate_stk_push(push())
    assert await sandbox.deliver_due() == 1
    [callback] = inbox(sandbox)
    assert callback.result_code == code
    assert (callback.amount_minor, callback.mpesa_receipt) == (None, None)
    status = await sandbox.query_stk_status(accepted.checkout_request_id)
    assert isinstance(status, StkFailed) and status.result_code == ResultCode(code)


async def test_lost_callback_is_only_visible_to_the_status_query(sandbox: SandboxProvider, clock: ManualClock) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.LOST_CALLBACK, delay_ms=30_000)
    accepted = await sandbox.initiate_stk_push(push())
    assert isinstance(await sandbox.query_stk_status(accepted.checkout_request_id), StkPending)

    clock.advance(ms=60_000)
    assert await sandbox.deliver_due() == 0
    assert inbox(sandbox) == []
    status = await sandbox.query_stk_status(accepted.checkout_request_id)
    assert isinstance(status, StkSucceeded)
    assert (status.amount_minor, status.phone) == (50_000, ALICE)
    assert status.receipt


async def test_next_request_scenario_wins_once_then_the_phone_scenario_applies(sandbox: SandboxProvider) -> None:
    sandbox.set_phone_scenario(ALICE, SandboxOutcome.DECLINE)
    sandbox.queue_next_scenario(SandboxOutcome.TIMEOUT)
    first = await sandbox.initiate_stk_push(push())
    second = await sandbox.initiate_stk_push(push())
    other = await sandbox.initiate_stk_push(push(phone=BOB))
    outcomes = {record.checkout_request_id: record.outcome for record in sandbox.requests()}
    assert outcomes == {
        first.checkout_request_id: SandboxOutcome.TIMEOUT,
        second.checkout_request_id: SandboxOutcome.DECLINE,
        other.checkout_request_id: SandboxOutcome.APPROVE,
    }
    sandbox.scenarios.clear()
    assert (await sandbox.initiate_stk_push(push())).checkout_request_id
    assert sandbox.requests()[-1].outcome is SandboxOutcome.APPROVE


async def test_sandbox_request_ids_do_not_repeat_after_a_restart(clock: ManualClock) -> None:
    """Issue 12, defect 1: a restarted sandbox numbered from 1 again and collided with stored ids."""
    before_restart, after_restart = SandboxProvider(clock=clock), SandboxProvider(clock=clock)
    first = [await before_restart.initiate_stk_push(push()) for _ in range(3)]
    second = [await after_restart.initiate_stk_push(push()) for _ in range(3)]
    checkout_ids = {accepted.checkout_request_id for accepted in first + second}
    merchant_ids = {accepted.merchant_request_id for accepted in first + second}
    receipts = {request.receipt for request in before_restart.requests() + after_restart.requests()}
    assert len(checkout_ids) == len(merchant_ids) == len(receipts) == 6
    assert all(checkout_id.startswith("ws_CO_SBX_") for checkout_id in checkout_ids)
    assert all(receipt is not None and len(receipt) == 10 and receipt.isalnum() for receipt in receipts)
    other = SandboxProvider(clock=clock, id_prefix="T2")
    assert (await other.initiate_stk_push(push())).checkout_request_id.startswith("ws_CO_T2_")


async def test_redelivery_is_detected_as_a_duplicate(sandbox: SandboxProvider) -> None:
    accepted = await sandbox.initiate_stk_push(push())
    await sandbox.deliver_due()
    assert await sandbox.redeliver(accepted.checkout_request_id)
    first, second = inbox(sandbox)
    assert classify_callback_delivery(second, callback_fingerprint(first)) is CallbackDelivery.DUPLICATE
    assert sandbox.request(accepted.checkout_request_id).callbacks_delivered == 2


async def test_redelivery_before_the_customer_answers_is_refused(sandbox: SandboxProvider) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.APPROVE, delay_ms=1_000)
    accepted = await sandbox.initiate_stk_push(push())
    with pytest.raises(ProviderRejected):
        await sandbox.redeliver(accepted.checkout_request_id)


async def test_failed_delivery_is_recorded_and_the_query_still_answers(clock: ManualClock) -> None:
    async def endpoint_down(_body: bytes) -> None:
        raise ConnectionError("callback endpoint down")

    sandbox = SandboxProvider(endpoint_down, clock=clock)
    accepted = await sandbox.initiate_stk_push(push())
    assert await sandbox.deliver_due() == 0
    record = sandbox.request(accepted.checkout_request_id)
    assert record.last_delivery_error == "ConnectionError: callback endpoint down"
    assert (record.callbacks_delivered, record.callback_due) == (0, False)
    assert isinstance(await sandbox.query_stk_status(accepted.checkout_request_id), StkSucceeded)


async def test_sandbox_applies_m_pesa_rules(sandbox: SandboxProvider) -> None:
    with pytest.raises(InvalidStkPushRequest, match="cents"):
        await sandbox.initiate_stk_push(push(amount_minor=50_050))
    with pytest.raises(InvalidStkPushRequest, match="Kenyan"):
        await sandbox.initiate_stk_push(push(phone="+14155552671"))
    with pytest.raises(ProviderRejected):
        await sandbox.query_stk_status("ws_CO_unknown")
    assert sandbox.requests() == []


async def test_callback_token_is_checked_only_when_configured(clock: ManualClock) -> None:
    SandboxProvider(clock=clock).verify_callback_token(None)
    guarded = SandboxProvider(clock=clock, callback_token="sandbox-token-123")
    guarded.verify_callback_token("sandbox-token-123")
    with pytest.raises(CallbackRejected):
        guarded.verify_callback_token("wrong")


async def test_delivery_loop_sends_callbacks_on_the_real_clock() -> None:
    received: list[bytes] = []

    async def deliver(body: bytes) -> None:
        received.append(body)

    sandbox = SandboxProvider(deliver)
    await sandbox.initiate_stk_push(push())
    loop = asyncio.create_task(sandbox.run_delivery_loop(poll_interval_ms=5))
    try:
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
    assert len(received) == 1
