"""The in-memory M-Pesa's payouts: outcomes, separate sinks, idempotency, redelivery, reversal."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    B2cAccepted,
    B2cDuplicatePayment,
    B2cFailed,
    B2cPaymentRequest,
    B2cPaymentUnknown,
    B2cPending,
    B2cResult,
    B2cResultKind,
    B2cReversed,
    B2cSucceeded,
    InvalidB2cPaymentRequest,
    ProviderRejected,
    RequestKind,
    SandboxOutcome,
    SandboxProvider,
    StkCallback,
    StkPushRequest,
)

ALICE = "+254712345678"


@dataclass
class Sinks:
    """Stands in for the payout service's result and timeout routes, parsing as the service would."""

    provider: SandboxProvider
    results: list[B2cResult] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    pushes: list[StkCallback] = field(default_factory=list)

    async def result(self, body: bytes) -> None:
        self.provider.verify_callback_token("sandbox-token-123")
        self.results.append(self.provider.parse_result_callback(body, {}))

    async def timeout(self, body: bytes) -> None:
        self.timeouts.append(self.provider.parse_timeout_callback(body, {}))

    async def push(self, body: bytes) -> None:
        self.pushes.append(self.provider.parse_callback(body, {}))


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    return SandboxProvider(clock=clock, callback_token="sandbox-token-123")


@pytest.fixture
def sinks(sandbox: SandboxProvider) -> Sinks:
    wired = Sinks(sandbox)
    sandbox.set_deliver(wired.push)
    sandbox.set_b2c_deliver(wired.result, wired.timeout)
    return wired


def payout(ocid: str = "wd_1", phone: str = ALICE, amount_minor: int = 50_000) -> B2cPaymentRequest:
    return B2cPaymentRequest(
        phone=phone, amount_minor=amount_minor, currency="KES", originator_conversation_id=ocid, remarks="Withdrawal"
    )


async def test_approve_sends_a_success_result_after_the_delay(
    sandbox: SandboxProvider, sinks: Sinks, clock: ManualClock
) -> None:
    sandbox.set_phone_scenario(ALICE, SandboxOutcome.APPROVE, delay_ms=5_000)
    accepted = await sandbox.pay(payout())
    assert accepted.originator_conversation_id == "wd_1" and accepted.conversation_id.startswith("AG_SBX_")
    assert await sandbox.deliver_due() == 0
    assert await sandbox.query_payment_status("wd_1", accepted.conversation_id) == B2cPending("wd_1")

    clock.advance(ms=5_000)
    assert await sandbox.deliver_due() == 1
    [result] = sinks.results
    assert (result.kind, result.originator_conversation_id, result.conversation_id) == (
        B2cResultKind.PAYMENT,
        "wd_1",
        accepted.conversation_id,
    )
    assert result.result_code.is_success and result.receipt and len(result.receipt) == 10
    assert (result.amount_minor, result.currency) == (50_000, "KES")
    assert result.completed_at == clock()
    status = result.to_status()
    assert status == await sandbox.query_payment_status("wd_1", None)
    assert isinstance(status, B2cSucceeded) and status.receipt == result.receipt
    assert sinks.timeouts == [] and sinks.pushes == []
    assert await sandbox.deliver_due() == 0, "each result is sent once"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [(SandboxOutcome.DECLINE, 2040), (SandboxOutcome.INSUFFICIENT_FUNDS, 1)],
)
async def test_failing_outcomes_send_documented_b2c_codes(
    sandbox: SandboxProvider, sinks: Sinks, outcome: SandboxOutcome, code: int
) -> None:
    sandbox.queue_next_scenario(outcome)
    await sandbox.pay(payout())
    assert await sandbox.deliver_due() == 1
    [result] = sinks.results
    assert result.result_code == code and (result.receipt, result.amount_minor) == (None, None)
    status = result.to_status()
    assert isinstance(status, B2cFailed) and status.result_code == code
    assert await sandbox.query_payment_status("wd_1", None) == status


async def test_timeout_sends_a_queue_timeout_notice_and_no_result(
    sandbox: SandboxProvider, sinks: Sinks, clock: ManualClock
) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.TIMEOUT, delay_ms=10_000)
    await sandbox.pay(payout())
    clock.advance(ms=9_999)
    assert await sandbox.deliver_due() == 0
    assert isinstance(await sandbox.query_payment_status("wd_1", None), B2cPending)
    clock.advance(ms=1)
    assert await sandbox.deliver_due() == 1
    assert sinks.timeouts == ["wd_1"] and sinks.results == []
    status = await sandbox.query_payment_status("wd_1", None)
    assert isinstance(status, B2cFailed) and status.result_code == 1019


async def test_lost_callback_pays_and_only_the_status_query_tells(
    sandbox: SandboxProvider, sinks: Sinks, clock: ManualClock
) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.LOST_CALLBACK, delay_ms=30_000)
    accepted = await sandbox.pay(payout())
    assert isinstance(await sandbox.query_payment_status("wd_1", None), B2cPending)
    clock.advance(ms=60_000)
    assert await sandbox.deliver_due() == 0
    assert sinks.results == sinks.timeouts == []
    status = await sandbox.query_payment_status("wd_1", accepted.conversation_id)
    assert isinstance(status, B2cSucceeded)
    assert (status.amount_minor, status.conversation_id) == (50_000, accepted.conversation_id) and status.receipt


async def test_pay_is_idempotent_by_originator_conversation_id(sandbox: SandboxProvider, sinks: Sinks) -> None:
    first = await sandbox.pay(payout())
    sandbox.queue_next_scenario(SandboxOutcome.DECLINE)  # a replay takes no scenario
    again = await sandbox.pay(payout())
    assert again == first and isinstance(again, B2cAccepted)
    assert len(sandbox.requests()) == 1
    assert await sandbox.deliver_due() == 1 and len(sinks.results) == 1
    with pytest.raises(B2cDuplicatePayment):
        await sandbox.pay(payout(amount_minor=60_000))
    other = await sandbox.pay(payout("wd_2"))
    assert other.conversation_id != first.conversation_id
    assert sandbox.requests()[-1].outcome is SandboxOutcome.DECLINE


async def test_redelivered_result_is_the_same_outcome(sandbox: SandboxProvider, sinks: Sinks) -> None:
    accepted = await sandbox.pay(payout())
    await sandbox.deliver_due()
    assert await sandbox.redeliver(accepted.conversation_id)
    assert await sandbox.redeliver("wd_1"), "the OriginatorConversationID names it too"
    first, second, third = sinks.results
    assert first == second == third
    assert sandbox.request("wd_1").callbacks_delivered == 3


async def test_redelivery_before_the_answer_is_refused(sandbox: SandboxProvider, sinks: Sinks) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.APPROVE, delay_ms=1_000)
    await sandbox.pay(payout())
    with pytest.raises(ProviderRejected):
        await sandbox.redeliver("wd_1")


async def test_reverse_a_paid_payout(sandbox: SandboxProvider, sinks: Sinks) -> None:
    await sandbox.pay(payout())
    await sandbox.deliver_due()
    [paid] = sinks.results
    assert await sandbox.reverse_payment("wd_1")
    reversal = sinks.results[-1]
    assert reversal.kind is B2cResultKind.REVERSAL and reversal.originator_conversation_id == "wd_1"
    assert reversal.receipt == paid.receipt and reversal.transaction_id != paid.receipt
    assert reversal.to_status() == B2cReversed("wd_1", paid.receipt, reversal.result_desc)
    status = await sandbox.query_payment_status("wd_1", None)
    assert isinstance(status, B2cReversed) and status.receipt == paid.receipt
    assert await sandbox.reverse_payment("wd_1")
    assert sinks.results[-1] == reversal, "reversing again re-sends the same reversal"
    assert sandbox.request("wd_1").reversed_at is not None


async def test_only_paid_payouts_can_be_reversed(sandbox: SandboxProvider, sinks: Sinks, clock: ManualClock) -> None:
    sandbox.queue_next_scenario(SandboxOutcome.DECLINE)
    await sandbox.pay(payout("wd_declined"))
    sandbox.queue_next_scenario(SandboxOutcome.APPROVE, delay_ms=1_000)
    await sandbox.pay(payout("wd_later"))
    for ocid in ("wd_declined", "wd_later", "wd_unknown"):
        with pytest.raises(ProviderRejected):
            await sandbox.reverse_payment(ocid)
    clock.advance(ms=1_000)
    assert await sandbox.reverse_payment("wd_later")


async def test_payouts_follow_m_pesa_rules(sandbox: SandboxProvider) -> None:
    with pytest.raises(InvalidB2cPaymentRequest, match="cents"):
        await sandbox.pay(payout(amount_minor=50_050))
    with pytest.raises(InvalidB2cPaymentRequest, match="Kenyan"):
        await sandbox.pay(payout(phone="+14155552671"))
    with pytest.raises(InvalidB2cPaymentRequest, match=r"1\.\.250000"):
        await sandbox.pay(payout(amount_minor=25_000_100))
    # A payout it never took (or forgot with its process) is a definite answer: re-send it.
    with pytest.raises(B2cPaymentUnknown):
        await sandbox.query_payment_status("wd_unknown", None)
    assert sandbox.requests() == []


async def test_pushes_and_payouts_share_scenarios_but_not_sinks(
    sandbox: SandboxProvider, sinks: Sinks, clock: ManualClock
) -> None:
    sandbox.set_phone_scenario(ALICE, SandboxOutcome.INSUFFICIENT_FUNDS)
    push = await sandbox.initiate_stk_push(
        StkPushRequest(phone=ALICE, amount_minor=10_000, currency="KES", account_reference="T1", description="")
    )
    await sandbox.pay(payout())
    assert await sandbox.deliver_due() == 2
    assert [callback.result_code for callback in sinks.pushes] == [1]
    assert [result.result_code for result in sinks.results] == [1]
    assert [record.kind for record in sandbox.requests()] == [RequestKind.C2B, RequestKind.B2C]
    with pytest.raises(ProviderRejected) as not_a_payout:
        await sandbox.query_payment_status(push.checkout_request_id, None)
    assert not isinstance(not_a_payout.value, B2cPaymentUnknown)
    with pytest.raises(ProviderRejected):
        await sandbox.query_stk_status("wd_1")


async def test_b2c_callbacks_need_their_sinks(clock: ManualClock) -> None:
    sandbox = SandboxProvider(clock=clock)
    await sandbox.pay(payout())
    with pytest.raises(AssertionError, match="set_b2c_deliver"):
        await sandbox.deliver_due()


async def test_failed_result_delivery_is_recorded(clock: ManualClock) -> None:
    async def down(_body: bytes) -> None:
        raise ConnectionError("payout down")

    sandbox = SandboxProvider(clock=clock)
    sandbox.set_b2c_deliver(down, down)
    await sandbox.pay(payout())
    assert await sandbox.deliver_due() == 0
    record = sandbox.request("wd_1")
    assert record.last_delivery_error == "ConnectionError: payout down"
    assert (record.callbacks_delivered, record.callback_due) == (0, False)
    assert isinstance(await sandbox.query_payment_status("wd_1", None), B2cSucceeded)
