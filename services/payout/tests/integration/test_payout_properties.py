"""Property: over random sequences of withdrawal requests, approvals, rejections, provider
outcomes and reversals, money is conserved and no hold outlives its withdrawal.

After each generated sequence has settled:
  wallet balance == funded - paid out (succeeded, not reversed)
  wallet inflight debits == what pending withdrawals reserve (a finished one holds nothing)
Real PostgreSQL, the real broker, the in-process ledger and the sandbox rail; Hypothesis runs in a
thread and drives the test's event loop through `LoopBridge`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clearway.devstack.testing import LoopBridge, wait_until
from clearway.providers.mobile_money import ProviderRejected, SandboxOutcome

from .conftest import APPROVER_KEY, OPERATOR_KEY, PayoutHarness, RunningPayout
from .flows import funded_user, mobile_method, wallet, withdraw

pytestmark = pytest.mark.integration
T = TypeVar("T")
FUNDED_MINOR = 1_000_00
ADMIN = "/api/v1/admin/payments"
OUTCOMES = [SandboxOutcome.APPROVE, SandboxOutcome.DECLINE, SandboxOutcome.TIMEOUT, SandboxOutcome.LOST_CALLBACK]
SETTLED = {"pending_approval", "succeeded", "failed", "rejected", "reversed"}
CALL_TIMEOUT_S = 120

steps = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.integers(min_value=10_00, max_value=400_00)),
        st.tuples(st.just("approve"), st.integers(min_value=0, max_value=5), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("reject"), st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=5)),
    ),
    min_size=1,
    max_size=10,
)


async def _run_plan(payout: PayoutHarness, ledger: httpx.AsyncClient, plan: list[tuple[Any, ...]]) -> None:
    user_id = await funded_user(ledger, FUNDED_MINOR)
    withdrawals: list[str] = []
    async with (
        payout.client(user=user_id) as user,
        payout.client(api_key=OPERATOR_KEY) as operator,
        payout.client(api_key=APPROVER_KEY) as approver,
    ):
        method = await mobile_method(user, "0711 222 333")
        for step in plan:
            if step[0] == "request":
                answer = await withdraw(user, method["id"], step[1])
                assert answer.status_code in (201, 422), answer.text
                if answer.status_code == 201:
                    withdrawals.append(answer.json()["withdrawal"]["id"])
                continue
            if not withdrawals:
                continue
            withdrawal_id = withdrawals[step[1] % len(withdrawals)]
            if step[0] == "reverse":
                with contextlib.suppress(ProviderRejected):  # only a paid payout can be reversed
                    await payout.sandbox.reverse_payment(withdrawal_id)
                continue
            requested = await operator.post(f"{ADMIN}/withdrawals/{withdrawal_id}/settlement-requests")
            if requested.status_code != 202:
                assert requested.status_code in (409, 422), requested.text
                continue
            approval = requested.json()["id"]
            if step[0] == "reject":
                answer = await approver.post(f"{ADMIN}/approval-requests/{approval}/rejections", json={"reason": "p"})
            else:
                payout.sandbox.set_phone_scenario("+254711222333", step[2])
                answer = await approver.post(f"{ADMIN}/approval-requests/{approval}/approvals")
            assert answer.status_code in (200, 409), answer.text

        async def settled() -> bool:
            await payout.sandbox.deliver_due()
            listed = (await user.get("/api/v1/payments/withdrawals", params={"limit": 100})).json()["data"]
            return all(item["status"] in SETTLED for item in listed)

        await wait_until(settled, timeout_s=30, what="every withdrawal settled")
        listed = (await user.get("/api/v1/payments/withdrawals", params={"limit": 100})).json()["data"]

        async def ledger_converged() -> bool:
            balance = await wallet(ledger, user_id)
            paid = sum(item["amount_minor"] for item in listed if item["status"] == "succeeded")
            reserved = sum(item["amount_minor"] for item in listed if item["status"] == "pending_approval")
            return (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (FUNDED_MINOR - paid, reserved)

        await wait_until(ledger_converged, timeout_s=15, what="wallet == funded - paid out, holds == pending")


async def test_random_withdrawal_sequences_conserve_money_and_release_every_hold(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as payout:
        bridge = LoopBridge(asyncio.get_running_loop(), timeout_s=CALL_TIMEOUT_S)

        @settings(
            max_examples=12,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(plan=steps)
        def property_holds(plan: list[tuple[Any, ...]]) -> None:
            bridge.run(_run_plan(payout, ledger, plan))

        await asyncio.to_thread(property_holds)
