"""Money out (seed 001) over the running platform: five real processes driven by HTTP as a wallet
app, operators and a processor would, the sandbox M-Pesa steered through payout's control API.

Every branch of seed 001's decision path; 50 concurrent withdrawals against a balance that covers
10; dual approval and each refusal; sandbox success, failure, timeout then status query, and a
duplicate callback; payout killed (SIGKILL) in the middle of a burst of withdrawals; funding's
`payable.paid` paid out with the ledger checked; another user's resources are 404.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.stack import Platform
from clearway.devstack.testing import wait_until

from .funding_flows import FundingFlowApi
from .walking_skeleton import Processor, new_event_id, new_transfer
from .withdrawals_scenario import ADMIN, METHODS, WITHDRAWALS, WithdrawalApi, new_phone, withdrawal_paid_out

pytestmark = pytest.mark.e2e
WALLET_MINOR = 100_000  # KES 1,000.00


@pytest_asyncio.fixture(loop_scope="session")
async def api(running_platform: Platform) -> AsyncIterator[WithdrawalApi]:
    platform = running_platform
    assert platform.approver_api_key is not None
    urls = {service: platform.url(service) for service in ("ledger", "funding", "payout")}
    async with WithdrawalApi(urls, platform.api_key, platform.approver_api_key, platform.user_token) as api:
        yield api


async def _funded_user(api: WithdrawalApi, amount_minor: int = WALLET_MINOR) -> tuple[str, httpx.AsyncClient]:
    """A user whose wallet an operator credited in the ledger (faster than a top-up; one test tops up)."""
    identity_id = await api.new_user()
    balance = await api.ledger.post(
        "/balances", json={"indicator": f"wallet:{identity_id}", "identity_id": identity_id, "currency": "KES"}
    )
    assert balance.status_code in (200, 201), balance.text
    if amount_minor:
        credited = await api.ledger.post(
            "/transactions",
            json={
                "precise_amount": amount_minor,
                "currency": "KES",
                "reference": f"e2e-payout-credit-{uuid.uuid4().hex}",
                "source": "@E2EPayoutFunding-KES",
                "destination": balance.json()["balance_id"],
                "allow_overdraft": True,
            },
        )
        assert credited.status_code == 201 and credited.json()["status"] == "APPLIED", credited.text
    return identity_id, api.as_user(identity_id)


async def _approve(api: WithdrawalApi, withdrawal_id: str) -> None:
    request = await api.request_settlement(withdrawal_id)
    await api.approve(request["id"])


async def test_a_topped_up_wallet_pays_out_after_dual_approval(api: WithdrawalApi) -> None:
    result = await withdrawal_paid_out(api, print)
    assert result["payment_intent"]["status"] == "succeeded"


async def test_each_branch_of_the_decision_path(api: WithdrawalApi) -> None:
    identity_id, user = await _funded_user(api)
    method = await api.add_method(user, new_phone())
    no_key = await user.post(
        WITHDRAWALS, json={"withdrawal_method_id": method["id"], "amount_minor": 10_000, "currency": "KES"}
    )
    assert (no_key.status_code, no_key.json()["code"]) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    _, stranger = await _funded_user(api)
    assert (await api.withdraw(stranger, method["id"], 10_000)).status_code == 404  # not their method
    for amount_minor, code in (
        (500, "AMOUNT_BELOW_MINIMUM"),
        (15_000_001, "AMOUNT_ABOVE_MAXIMUM"),
        (100_001, "INSUFFICIENT_FUNDS"),
    ):
        refused = await api.withdraw(user, method["id"], amount_minor)
        assert (refused.status_code, refused.json()["code"]) == (422, code), refused.text
    key = uuid.uuid4().hex
    created = await api.withdraw(user, method["id"], 40_000, key=key)
    assert created.status_code == 201, created.text
    replay = await api.withdraw(user, method["id"], 40_000, key=key)
    assert (replay.status_code, replay.json()) == (201, created.json())
    reused = await api.withdraw(user, method["id"], 30_000, key=key)
    assert (reused.status_code, reused.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert await api.wallet(user) == {"balance_minor": 100_000, "reserved_minor": 40_000, "spendable_minor": 60_000}
    withdrawal_id = created.json()["withdrawal"]["id"]
    assert (await stranger.get(f"{WITHDRAWALS}/{withdrawal_id}")).status_code == 404
    assert (await stranger.get(f"{METHODS}/{method['id']}")).status_code == 404
    assert identity_id not in str((await stranger.get(WITHDRAWALS)).json())


async def test_fifty_concurrent_withdrawals_against_a_balance_for_ten(api: WithdrawalApi) -> None:
    _, user = await _funded_user(api, 10 * 10_000)
    method = await api.add_method(user, new_phone())
    answers = await asyncio.gather(*(api.withdraw(user, method["id"], 10_000) for _ in range(50)))
    codes = [answer.status_code for answer in answers]
    assert codes.count(201) == 10 and codes.count(422) == 40, codes
    assert await api.wallet(user) == {"balance_minor": 100_000, "reserved_minor": 100_000, "spendable_minor": 0}


async def test_dual_approval_refusals_and_rejection(api: WithdrawalApi) -> None:
    _, user = await _funded_user(api)
    method = await api.add_method(user, new_phone())
    first = (await api.withdraw(user, method["id"], 20_000)).json()["withdrawal"]
    request = await api.request_settlement(first["id"])
    own = await api.admin.post(f"{ADMIN}/approval-requests/{request['id']}/approvals")
    assert (own.status_code, own.json()["code"]) == (403, "SAME_APPROVER")
    by_user = await user.post(f"{ADMIN}/approval-requests/{request['id']}/approvals")
    assert by_user.status_code == 403
    rejected = await api.approver.post(f"{ADMIN}/approval-requests/{request['id']}/rejections", json={"reason": "KYC"})
    assert rejected.status_code == 200 and rejected.json()["withdrawal"]["status"] == "rejected"
    terminal = await api.admin.post(f"{ADMIN}/withdrawals/{first['id']}/mock-settlement-requests")
    assert (terminal.status_code, terminal.json()["code"]) == (422, "WITHDRAWAL_TERMINAL")
    await api.wallet_settled(user, WALLET_MINOR, 0)
    audit = (await api.admin.get(f"{ADMIN}/approval-requests/{request['id']}")).json()["audit"]
    assert [entry["action"] for entry in audit] == ["settlement_requested", "rejected"]


@pytest.mark.parametrize(
    ("outcome", "status"), [("decline", "failed"), ("timeout", "failed"), ("lost_callback", "succeeded")]
)
async def test_sandbox_outcomes_settle_the_withdrawal(api: WithdrawalApi, outcome: str, status: str) -> None:
    _, user = await _funded_user(api)
    phone = new_phone()
    method = await api.add_method(user, phone)
    await api.rail_will(phone, outcome)
    withdrawal = (await api.withdraw(user, method["id"], 25_000)).json()["withdrawal"]
    await _approve(api, withdrawal["id"])
    settled = await api.settled(user, withdrawal["id"])
    assert settled["withdrawal"]["status"] == status, settled
    expected_balance = WALLET_MINOR - 25_000 if status == "succeeded" else WALLET_MINOR
    await api.wallet_settled(user, expected_balance, 0)


async def test_a_duplicate_callback_pays_once_and_a_reversal_refunds(api: WithdrawalApi) -> None:
    _, user = await _funded_user(api)
    method = await api.add_method(user, new_phone())
    withdrawal = (await api.withdraw(user, method["id"], 30_000)).json()["withdrawal"]
    await _approve(api, withdrawal["id"])
    assert (await api.settled(user, withdrawal["id"]))["withdrawal"]["status"] == "succeeded"
    redelivered = await api.admin.post(f"/sandbox/mobile-money/requests/{withdrawal['id']}/redeliver")
    assert redelivered.status_code == 200 and redelivered.json()["delivered"] is True, redelivered.text
    await asyncio.sleep(0.5)
    await api.wallet_settled(user, WALLET_MINOR - 30_000, 0)
    assert (await api.ledger.get(f"/transactions/reference/payout:{withdrawal['id']}:settle")).status_code == 200
    reversed_ = await api.admin.post(f"/sandbox/mobile-money/requests/{withdrawal['id']}/reverse")
    assert reversed_.status_code == 200, reversed_.text

    async def is_reversed() -> bool:
        body = (await user.get(f"{WITHDRAWALS}/{withdrawal['id']}")).json()
        return bool(body["withdrawal"]["status"] == "reversed")

    await wait_until(is_reversed, "the withdrawal is reversed", timeout_s=20)
    await api.wallet_settled(user, WALLET_MINOR, 0)


async def test_payout_killed_mid_burst_leaves_no_orphaned_hold(api: WithdrawalApi, running_platform: Platform) -> None:
    _, user = await _funded_user(api, 40 * 2_000)
    method = await api.add_method(user, new_phone())

    async def attempt() -> int:
        try:
            return (await api.withdraw(user, method["id"], 2_000)).status_code
        except httpx.HTTPError:
            return 0  # the process died under this request

    burst = [asyncio.create_task(attempt()) for _ in range(40)]
    await asyncio.sleep(0.3)
    running_platform.stop_service("payout", graceful=False)  # SIGKILL, mid-burst
    await asyncio.gather(*burst)
    running_platform.start_service("payout")

    async def holds_match_withdrawals() -> bool:
        listed = (await user.get(WITHDRAWALS, params={"limit": 100})).json()["data"]
        pending = sum(item["amount_minor"] for item in listed if item["status"] == "pending_approval")
        wallet = await api.wallet(user)
        return wallet["reserved_minor"] == pending and wallet["balance_minor"] == 40 * 2_000

    # The recovery pass adopts (or learns refused) every hold a killed request placed.
    await wait_until(holds_match_withdrawals, "every hold belongs to a pending withdrawal", timeout_s=40)


async def test_a_paid_payable_is_paid_out_to_the_payees_primary_method(
    api: WithdrawalApi, running_platform: Platform
) -> None:
    platform = running_platform
    amount_minor = 200_000  # KES 2,000.00: under the KES auto-approval amount
    async with (
        FundingFlowApi(
            {"funding": platform.url("funding"), "ledger": platform.url("ledger")}, platform.api_key
        ) as funding,
        Processor(platform.kafka_bootstrap_servers) as processor,
    ):
        payee_id = await funding.new_payee("Creator KES")
        payee = api.as_user(payee_id)
        method = await api.add_method(payee, new_phone())
        created = await funding.create_payable(payee_id, amount_minor, "Campaign work", currency="KES")
        await funding.approve(created["id"])
        invoice = await funding.create_funding([created["id"]])
        body = new_transfer(amount_minor, reference=invoice["invoice"]["payment_reference"], currency="KES")
        await processor.publish(body, event_id=new_event_id())

        async def linked() -> bool:
            return (await funding.link(invoice["id"], body["transfer_id"])).status_code in (200, 202)

        await wait_until(linked, "the deposit links to the funding", timeout_s=60)

    async def paid_out() -> dict[str, object] | None:
        listed = (await payee.get(WITHDRAWALS)).json()["data"]
        done = [item for item in listed if item["payable_id"] == created["id"] and item["status"] == "succeeded"]
        return done[0] if done else None

    withdrawal = await wait_until(paid_out, "the paid payable is paid out", timeout_s=60)
    assert withdrawal["withdrawal_method_id"] == method["id"] and withdrawal["approved_by"]
    await api.wallet_settled(payee, 0, 0)  # credited by the payable, then paid out in full
