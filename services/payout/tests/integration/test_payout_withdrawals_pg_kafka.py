"""Seed 001's withdrawal decision path, branch by branch, against real PostgreSQL, the real broker
and an in-process ledger: idempotency, ownership, limits, funds, 50 concurrent requests against
a balance that covers 10, dual approval, every sandbox outcome, and a crash after the hold."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from clearway.devstack.testing import wait_until
from clearway.payout.config import PayoutSettings
from clearway.providers.mobile_money import SandboxOutcome

from .conftest import APPROVER_KEY, OPERATOR_KEY, READER_KEY, PayoutHarness, RunningPayout
from .flows import funded_user, internal_balance, mobile_method, transactions_with_reference, wallet, withdraw

pytestmark = pytest.mark.integration
ADMIN = "/api/v1/admin/payments"
WITHDRAWALS = "/api/v1/payments/withdrawals"
KES = "KES"


async def _status(payout: PayoutHarness, withdrawal_id: str) -> str:
    response = await payout.admin.get(f"{WITHDRAWALS}/{withdrawal_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["withdrawal"]["status"])


async def _settled(payout: PayoutHarness, withdrawal_id: str, expected: str) -> None:
    async def reached() -> bool:
        await payout.sandbox.deliver_due()
        return await _status(payout, withdrawal_id) == expected

    await wait_until(reached, timeout_s=20, what=f"{withdrawal_id} is {expected}")


async def _approve(payout: PayoutHarness, withdrawal_id: str) -> httpx.Response:
    async with payout.client(api_key=OPERATOR_KEY) as operator, payout.client(api_key=APPROVER_KEY) as approver:
        requested = await operator.post(f"{ADMIN}/withdrawals/{withdrawal_id}/settlement-requests")
        assert requested.status_code == 202, requested.text
        return await approver.post(f"{ADMIN}/approval-requests/{requested.json()['id']}/approvals")


async def test_every_refusal_of_the_decision_path_has_its_code_and_changes_nothing(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 5_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        no_key = await user.post(
            WITHDRAWALS, json={"withdrawal_method_id": method["id"], "amount_minor": 100_00, "currency": KES}
        )
        assert no_key.status_code == 400 and no_key.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
        assert (await withdraw(user, "wdm_unknown", 100_00)).status_code == 404
        cases = {
            "AMOUNT_BELOW_MINIMUM": 5_00,
            "AMOUNT_ABOVE_MAXIMUM": 150_000_01,
            "INSUFFICIENT_FUNDS": 5_000_01,
        }
        for code, amount_minor in cases.items():
            refused = await withdraw(user, method["id"], amount_minor)
            assert (refused.status_code, refused.json()["code"]) == (422, code), refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await user.get(WITHDRAWALS)).json()["data"] == []
        balance = await wallet(ledger, user_id)
        assert (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (5_000_00, 0)


async def test_the_daily_limit_counts_the_last_24_hours(running_flow: RunningPayout, ledger: httpx.AsyncClient) -> None:
    user_id = await funded_user(ledger, 400_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        for _ in range(2):
            assert (await withdraw(user, method["id"], 150_000_00)).status_code == 201
        refused = await withdraw(user, method["id"], 1_000_01)
        assert refused.status_code == 422 and refused.json()["code"] == "DAILY_LIMIT_EXCEEDED"
        assert refused.json()["remaining_minor"] == 0 or refused.json()["remaining_minor"] < 1_000_01


async def test_a_withdrawal_reserves_and_replays_by_idempotency_key(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        key = uuid.uuid4().hex
        first = await withdraw(user, method["id"], 400_00, key=key)
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["withdrawal"]["status"] == "pending_approval"
        assert body["payment_intent"]["purpose"] == "withdrawal" and body["payment_intent"]["status"] == "pending"
        replay = await withdraw(user, method["id"], 400_00, key=key)
        assert (replay.status_code, replay.json()) == (201, body)
        reused = await withdraw(user, method["id"], 500_00, key=key)
        assert reused.status_code == 422 and reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"

        shown = (await user.get("/api/v1/payments/wallet")).json()["data"]
        assert {
            "currency": KES,
            "balance_minor": 1_000_00,
            "reserved_minor": 400_00,
            "spendable_minor": 600_00,
        } in shown
        refused = await withdraw(user, method["id"], 600_01)
        assert refused.json()["code"] == "INSUFFICIENT_FUNDS"


async def test_fifty_concurrent_withdrawals_against_a_balance_for_ten_accept_exactly_ten(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 10 * 100_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        answers = await asyncio.gather(*(withdraw(user, method["id"], 100_00) for _ in range(50)))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(201) == 10 and statuses.count(422) == 40, statuses
        assert {answer.json()["code"] for answer in answers if answer.status_code == 422} == {"INSUFFICIENT_FUNDS"}
        balance = await wallet(ledger, user_id)
        assert int(balance["balance"]) == 10 * 100_00 and int(balance["inflight_debit_balance"]) == 10 * 100_00
        listed = (await user.get(WITHDRAWALS, params={"limit": 100})).json()["data"]
        assert len(listed) == 10 and {item["status"] for item in listed} == {"pending_approval"}


async def test_business_refusals_answer_430_when_configured(
    running_flow: RunningPayout, ledger: httpx.AsyncClient, payout_settings: PayoutSettings
) -> None:
    user_id = await funded_user(ledger, 0)
    settings = payout_settings.model_copy(update={"business_error_status": 430})
    async with running_flow(settings=settings) as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        refused = await withdraw(user, method["id"], 100_00)
        assert (refused.status_code, refused.json()["code"]) == (430, "INSUFFICIENT_FUNDS")


async def test_dual_approval_pays_out_through_the_sandbox_and_commits_the_hold(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with (
        running_flow() as payout,
        payout.client(user=user_id) as user,
        payout.client(api_key=OPERATOR_KEY) as operator,
        payout.client(api_key=READER_KEY) as reader,
        payout.client(api_key=APPROVER_KEY) as approver,
    ):
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 300_00)).json()["withdrawal"]
        requested = await operator.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/mock-settlement-requests")
        assert requested.status_code == 202 and requested.json()["status"] == "pending"
        approval_id = requested.json()["id"]
        again = await operator.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/settlement-requests")
        assert again.json()["id"] == approval_id

        same = await operator.post(f"{ADMIN}/approval-requests/{approval_id}/approvals")
        assert same.status_code == 403  # an operator is not an approver
        admin_self = await payout.admin.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/settlement-requests")
        assert admin_self.json()["requested_by"] == "olga-operator"
        for forbidden in (reader, user):
            assert (await forbidden.post(f"{ADMIN}/approval-requests/{approval_id}/approvals")).status_code == 403

        approved = await approver.post(f"{ADMIN}/approval-requests/{approval_id}/mock-settlement-approvals")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "amir-approver"
        await _settled(payout, withdrawal["id"], "succeeded")

        detail = (await user.get(f"{WITHDRAWALS}/{withdrawal['id']}")).json()
        assert detail["payment_intent"]["status"] == "succeeded" and detail["payment_intent"]["receipt"]
        assert (await user.get(f"/api/v1/payments/withdrawal-methods/{method['id']}")).json()["verified"] is True
        audit = (await operator.get(f"{ADMIN}/approval-requests/{approval_id}")).json()["audit"]
        assert [(entry["action"], entry["actor"]) for entry in audit] == [
            ("settlement_requested", "olga-operator"),
            ("approved", "amir-approver"),
        ]

        async def ledger_settled() -> bool:
            balance = await wallet(ledger, user_id)
            return int(balance["balance"]) == 700_00 and int(balance["inflight_debit_balance"]) == 0

        await wait_until(ledger_settled, timeout_s=10, what="the hold is committed")
        assert await internal_balance(ledger, "@Payouts-sandbox-KES", KES) >= 300_00

        terminal = await operator.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/settlement-requests")
        assert terminal.status_code == 422 and terminal.json()["code"] == "WITHDRAWAL_TERMINAL"


async def test_the_requester_cannot_approve_their_own_request(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 300_00)).json()["withdrawal"]
        requested = await payout.admin.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/settlement-requests")
        own = await payout.admin.post(f"{ADMIN}/approval-requests/{requested.json()['id']}/approvals")
        assert own.status_code == 403 and own.json()["code"] == "SAME_APPROVER"
        assert await _status(payout, withdrawal["id"]) == "pending_approval"


async def test_a_rejection_releases_the_reservation(running_flow: RunningPayout, ledger: httpx.AsyncClient) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with (
        running_flow() as payout,
        payout.client(user=user_id) as user,
        payout.client(api_key=APPROVER_KEY) as approver,
    ):
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 300_00)).json()["withdrawal"]
        requested = await payout.admin.post(f"{ADMIN}/withdrawals/{withdrawal['id']}/settlement-requests")
        rejected = await approver.post(
            f"{ADMIN}/approval-requests/{requested.json()['id']}/rejections", json={"reason": "KYC review"}
        )
        assert rejected.status_code == 200 and rejected.json()["withdrawal"]["status"] == "rejected"
        balance = await wallet(ledger, user_id)
        assert (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (1_000_00, 0)


@pytest.mark.parametrize("outcome", [SandboxOutcome.DECLINE, SandboxOutcome.INSUFFICIENT_FUNDS, SandboxOutcome.TIMEOUT])
async def test_a_failed_payout_voids_the_hold(
    running_flow: RunningPayout, ledger: httpx.AsyncClient, outcome: SandboxOutcome
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user, "0799 111 222")
        payout.sandbox.set_phone_scenario("+254799111222", outcome)
        withdrawal = (await withdraw(user, method["id"], 250_00)).json()["withdrawal"]
        assert (await _approve(payout, withdrawal["id"])).status_code == 200
        await _settled(payout, withdrawal["id"], "failed")
        detail = (await user.get(f"{WITHDRAWALS}/{withdrawal['id']}")).json()
        assert detail["payment_intent"]["status"] == "failed" and detail["withdrawal"]["failure_code"]

        async def released() -> bool:
            balance = await wallet(ledger, user_id)
            return (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (1_000_00, 0)

        await wait_until(released, timeout_s=10, what="the hold is voided")
        assert (await user.get(f"/api/v1/payments/withdrawal-methods/{method['id']}")).json()["verified"] is False


async def test_a_lost_callback_is_settled_by_a_status_query(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with (
        running_flow(default_outcome=SandboxOutcome.LOST_CALLBACK) as payout,
        payout.client(user=user_id) as user,
    ):
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 250_00)).json()["withdrawal"]
        assert (await _approve(payout, withdrawal["id"])).status_code == 200
        await _settled(payout, withdrawal["id"], "succeeded")


async def test_a_duplicate_callback_moves_money_once_and_a_reversal_gives_it_back(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    async with running_flow() as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 250_00)).json()["withdrawal"]
        assert (await _approve(payout, withdrawal["id"])).status_code == 200
        await _settled(payout, withdrawal["id"], "succeeded")
        assert await payout.sandbox.redeliver(withdrawal["id"])
        assert await payout.sandbox.redeliver(withdrawal["id"])
        balance = await wallet(ledger, user_id)
        assert (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (750_00, 0)
        assert await transactions_with_reference(ledger, f"payout:{withdrawal['id']}:settle") == 1

        await payout.sandbox.reverse_payment(withdrawal["id"])
        await _settled(payout, withdrawal["id"], "reversed")

        async def refunded() -> bool:
            return int((await wallet(ledger, user_id))["balance"]) == 1_000_00

        await wait_until(refunded, timeout_s=10, what="the reversal is posted")
        await payout.sandbox.reverse_payment(withdrawal["id"])
        await asyncio.sleep(0.3)
        assert int((await wallet(ledger, user_id))["balance"]) == 1_000_00


class CrashAfterHold(httpx.AsyncBaseTransport):
    """The real ledger, but the process 'dies' the moment the ledger has placed a hold: the request
    handling stops there (a BaseException no handler catches), before payout commits anything."""

    def __init__(self, ledger_app: FastAPI) -> None:
        self._inner = httpx.ASGITransport(app=ledger_app)
        self.crashed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/transactions" and b'"inflight":true' in request.content:
            self.crashed += 1
            raise ProcessKilled
        return response


class ProcessKilled(BaseException):
    pass


async def test_a_crash_between_the_hold_and_our_commit_adopts_the_hold(
    running_flow: RunningPayout, ledger: httpx.AsyncClient, ledger_app: FastAPI, payout_settings: PayoutSettings
) -> None:
    user_id = await funded_user(ledger, 1_000_00)
    crashing = CrashAfterHold(ledger_app)
    quiet = payout_settings.model_copy(update={"recovery_enabled": False})
    async with running_flow(transport=crashing, settings=quiet) as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        with pytest.raises(ProcessKilled):
            await withdraw(user, method["id"], 300_00, key="crash-key")
    assert crashing.crashed == 1
    balance = await wallet(ledger, user_id)
    assert int(balance["inflight_debit_balance"]) == 300_00  # the hold exists; payout never recorded it

    # The process restarts; without any client retry, the recovery pass adopts the hold by reference.
    async with running_flow() as payout, payout.client(user=user_id) as user:

        async def adopted() -> bool:
            listed = (await user.get(WITHDRAWALS)).json()["data"]
            return [item["status"] for item in listed] == ["pending_approval"]

        await wait_until(adopted, timeout_s=10, what="the orphaned hold is adopted")
        replay = await withdraw(user, method["id"], 300_00, key="crash-key")
        assert replay.status_code == 200 and replay.json()["withdrawal"]["status"] == "pending_approval"
        balance = await wallet(ledger, user_id)
        assert int(balance["inflight_debit_balance"]) == 300_00  # one hold, not two


@pytest.mark.parametrize(
    ("outcome", "final", "balance_minor"),
    [(SandboxOutcome.APPROVE, "succeeded", 750_00), (SandboxOutcome.DECLINE, "failed", 1_000_00)],
)
async def test_a_payout_in_flight_when_the_process_is_killed_is_finished_after_the_restart(
    running_flow: RunningPayout,
    ledger: httpx.AsyncClient,
    payout_settings: PayoutSettings,
    outcome: SandboxOutcome,
    final: str,
    balance_minor: int,
) -> None:
    """Seen in the chaos run: payout was killed after it had handed a withdrawal to the rail and
    before the result came. The restarted process's rail (the in-process sandbox, like a rail that
    never got the submission) holds no such payment, so no callback will ever come and every
    status query is refused; the withdrawal must still end, its hold committed or voided."""
    user_id = await funded_user(ledger, 1_000_00)
    quiet = payout_settings.model_copy(update={"recovery_enabled": False})
    async with running_flow(settings=quiet) as payout, payout.client(user=user_id) as user:
        method = await mobile_method(user)
        withdrawal = (await withdraw(user, method["id"], 250_00)).json()["withdrawal"]
        assert (await _approve(payout, withdrawal["id"])).status_code == 200
        assert await _status(payout, withdrawal["id"]) == "processing"
        assert [r.originator_conversation_id for r in payout.sandbox.requests()] == [withdrawal["id"]]
        # Killed here: the result callback is never delivered, and the rail dies with the process.
    assert int((await wallet(ledger, user_id))["inflight_debit_balance"]) == 250_00

    async with running_flow(default_outcome=outcome) as payout:
        await _settled(payout, withdrawal["id"], final)
        # Re-sent once, under the same id (a rail that held it would refuse the duplicate).
        assert [r.originator_conversation_id for r in payout.sandbox.requests()] == [withdrawal["id"]]

        async def hold_settled() -> bool:
            balance = await wallet(ledger, user_id)
            return (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (balance_minor, 0)

        await wait_until(hold_settled, timeout_s=10, what=f"the hold is settled for a {final} payout")
        paid = final == "succeeded"
        assert await transactions_with_reference(ledger, f"payout:{withdrawal['id']}:settle") == int(paid)


async def test_bank_withdrawals_travel_in_a_pain001_batch_and_settle_by_the_banks_answer(
    running_flow: RunningPayout, ledger: httpx.AsyncClient
) -> None:
    from clearway.providers.bank import control_sum, validate_pain001

    user_id = await funded_user(ledger, 1_000_00, currency="EUR")
    async with running_flow() as payout, payout.client(user=user_id) as user:
        created = await user.post(
            "/api/v1/payments/withdrawal-methods",
            json={"type": "bank_account", "iban": "DE89370400440532013000", "account_holder_name": "Ada Obi"},
        )
        assert created.status_code == 201, created.text
        paid = (await withdraw(user, created.json()["id"], 300_00, currency="EUR")).json()["withdrawal"]
        refused = (await withdraw(user, created.json()["id"], 200_00, currency="EUR")).json()["withdrawal"]
        for withdrawal in (paid, refused):
            assert (await _approve(payout, withdrawal["id"])).status_code == 200
        batch_id = (await payout.admin.get(f"{WITHDRAWALS}/{paid['id']}")).json()["withdrawal"]["batch_id"]
        assert batch_id and await _status(payout, paid["id"]) == "processing"

        file = await payout.admin.get(f"{ADMIN}/payout-batches/{batch_id}/pain001")
        assert file.status_code == 200 and file.headers["content-type"].startswith("application/xml")
        validate_pain001(file.content)
        assert control_sum(file.content) == (2, 500_00)
        assert paid["id"].replace("_", "-").encode() in file.content
        assert (await payout.admin.get(f"{ADMIN}/payout-batches/{batch_id}/pain001")).content == file.content
        batch = (await payout.admin.get(f"{ADMIN}/payout-batches/{batch_id}")).json()
        assert (batch["status"], batch["count"], batch["total_minor"]) == ("submitted", 2, 500_00)
        listed = (await payout.admin.get(f"{ADMIN}/payout-batches", params={"limit": 100})).json()["data"]
        in_list = next(item for item in listed if item["id"] == batch_id)
        assert (in_list["count"], in_list["total_minor"]) == (2, 500_00), "the list carries each batch's totals"

        settled = await payout.admin.post(
            f"{ADMIN}/payout-batches/{batch_id}/settlement",
            json={"bank_reference": "BANK-REF-1", "failed": {refused["id"]: "AC04 account closed"}},
        )
        assert settled.status_code == 200 and settled.json()["status"] == "settled", settled.text
        assert await _status(payout, paid["id"]) == "succeeded"
        assert await _status(payout, refused["id"]) == "failed"

        async def converged() -> bool:
            balance = await wallet(ledger, user_id, "EUR")
            return (int(balance["balance"]), int(balance["inflight_debit_balance"])) == (700_00, 0)

        await wait_until(converged, "the bank's answer is in the ledger", timeout_s=10)
