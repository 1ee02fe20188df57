"""Wallet top-ups by mobile money, as a wallet app and M-Pesa see them from outside the platform.

The app asks funding for a top-up (`POST /api/v1/payments/top-ups` with an Idempotency-Key),
the sandbox M-Pesa (steered through funding's `/sandbox/mobile-money` control API) answers as
the customer would, and the wallet is read back from the ledger. Each flow checks its own
outcome: approved (credited once), declined (nothing moves), a duplicate callback (no second
credit), a lost callback (settled by funding's status query after its timeout).

Shared by `test_funding_topups.py` (a platform the test starts) and `demo.py` (`make run`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import httpx

from clearway.devstack.testing import wait_until

TOPUPS = "/api/v1/payments/top-ups"
SANDBOX = "/sandbox/mobile-money"
AMOUNT_MINOR = 150_000  # KES 1,500.00: M-Pesa takes whole shillings
# Funding asks about a silent push 30 s after it (CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_AFTER_MS;
# the suite's platforms set 2-5 s).
LOST_CALLBACK_TIMEOUT_S = 120.0
WAIT_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.25
HTTP_TIMEOUT_S = 10.0

Report = Callable[[str], None]


def new_phone() -> str:
    """A Kenyan mobile number of its own per flow, so each flow's sandbox scenario is its own."""
    return f"+2547{secrets.randbelow(10**8):08d}"


class TopupApi:
    """Funding's top-up and sandbox routes and the ledger's wallet, called with an API key."""

    def __init__(self, funding_url: str, ledger_url: str, api_key: str) -> None:
        self._funding = httpx.AsyncClient(base_url=funding_url, headers={"X-API-Key": api_key}, timeout=HTTP_TIMEOUT_S)
        self._ledger = httpx.AsyncClient(base_url=ledger_url, headers={"X-API-Key": api_key}, timeout=HTTP_TIMEOUT_S)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._funding.aclose()
        await self._ledger.aclose()

    async def new_wallet_owner(self) -> str:
        response = await self._ledger.post("/identities", json={"identity_type": "individual", "first_name": "Amina"})
        assert response.status_code == 201, f"ledger refused an identity: {response.text}"
        identity_id: str = response.json()["identity_id"]
        return identity_id

    async def customer_will(self, phone: str, outcome: str, *, delay_ms: int = 0) -> None:
        response = await self._funding.post(
            f"{SANDBOX}/scenarios", json={"phone": phone, "outcome": outcome, "delay_ms": delay_ms}
        )
        assert response.status_code == 201, f"sandbox refused the scenario: {response.text}"

    async def start_topup(self, owner: str, phone: str, *, key: str | None = None) -> dict[str, Any]:
        response = await self._funding.post(
            TOPUPS,
            json={"amount_minor": AMOUNT_MINOR, "currency": "KES", "phone_number": phone, "identity_id": owner},
            headers={"Idempotency-Key": key or f"topup-{uuid.uuid4().hex}"},
        )
        assert response.status_code == 201, f"top-up refused: {response.status_code} {response.text}"
        topup: dict[str, Any] = response.json()
        assert topup["status"] == "pending" and topup["checkout_request_id"], topup
        assert phone not in response.text, "the phone number must only be shown masked"
        return topup

    async def topup(self, topup_id: str) -> dict[str, Any]:
        response = await self._funding.get(f"{TOPUPS}/{topup_id}")
        assert response.status_code == 200, response.text
        topup: dict[str, Any] = response.json()
        return topup

    async def settled(self, topup_id: str, *, timeout_s: float = WAIT_TIMEOUT_S) -> dict[str, Any]:
        async def settled() -> dict[str, Any] | None:
            topup = await self.topup(topup_id)
            return topup if topup["status"] != "pending" else None

        settled_topup: dict[str, Any] = await wait_until(
            settled, f"top-up {topup_id} is settled", timeout_s=timeout_s, interval_s=POLL_INTERVAL_S
        )
        return settled_topup

    async def redeliver_callback(self, checkout_request_id: str) -> None:
        response = await self._funding.post(f"{SANDBOX}/requests/{checkout_request_id}/redeliver")
        assert response.status_code == 200 and response.json()["delivered"] is True, response.text

    async def sandbox_request(self, checkout_request_id: str) -> dict[str, Any]:
        # Newest first, and the sandbox keeps far more than one page's worth only under load.
        response = await self._funding.get(f"{SANDBOX}/requests", params={"limit": 1000})
        assert response.status_code == 200, response.text
        for request in response.json()["data"]:
            if request["checkout_request_id"] == checkout_request_id:
                found: dict[str, Any] = request
                return found
        raise AssertionError(f"the sandbox has no push {checkout_request_id} among its newest 1000")

    async def wallet_minor(self, owner: str) -> int:
        response = await self._ledger.get(f"/balances/indicator/wallet:{owner}/currency/KES")
        assert response.status_code == 200, response.text
        balance: int = response.json()["balance"]
        return balance

    async def ledger_credits(self, topup_id: str) -> int:
        response = await self._ledger.get("/transactions", params={"reference": f"topup:{topup_id}"})
        assert response.status_code == 200, response.text
        return len(response.json())


async def approved_topup(api: TopupApi, report: Report) -> dict[str, Any]:
    owner, phone = await api.new_wallet_owner(), new_phone()
    await api.customer_will(phone, "approve", delay_ms=500)
    topup = await api.start_topup(owner, phone)
    report(f"top-up {topup['id']}: phone {topup['phone_number_masked']} prompted (push {topup['checkout_request_id']})")
    settled = await api.settled(topup["id"])
    assert (settled["status"], settled["resolved_by"]) == ("succeeded", "callback"), settled
    assert await api.wallet_minor(owner) == AMOUNT_MINOR
    assert await api.ledger_credits(topup["id"]) == 1
    report(f"customer approved: receipt {settled['receipt']}, wallet:{owner} holds {AMOUNT_MINOR} KES minor units")
    return settled


async def duplicate_callback(api: TopupApi, settled: dict[str, Any], report: Report) -> None:
    await api.redeliver_callback(settled["checkout_request_id"])
    request = await api.sandbox_request(settled["checkout_request_id"])
    assert request["callbacks_delivered"] >= 2 and request["last_delivery_error"] is None, request
    assert (await api.topup(settled["id"]))["status"] == "succeeded"
    assert await api.wallet_minor(settled["identity_id"]) == AMOUNT_MINOR
    assert await api.ledger_credits(settled["id"]) == 1
    report(f"the same callback delivered again: acknowledged, wallet still {AMOUNT_MINOR}, one ledger credit")


async def declined_topup(api: TopupApi, report: Report) -> dict[str, Any]:
    owner, phone = await api.new_wallet_owner(), new_phone()
    await api.customer_will(phone, "decline")
    topup = await api.start_topup(owner, phone)
    settled = await api.settled(topup["id"])
    assert (settled["status"], settled["result_code"], settled["failure_reason"]) == (
        "failed",
        1032,
        "cancelled_by_user",
    ), settled
    assert await api.wallet_minor(owner) == 0 and await api.ledger_credits(topup["id"]) == 0
    report(f"customer declined (1032): top-up {topup['id']} failed, nothing moved")
    return settled


async def lost_callback_topup(api: TopupApi, report: Report) -> dict[str, Any]:
    owner, phone = await api.new_wallet_owner(), new_phone()
    await api.customer_will(phone, "lost_callback")
    topup = await api.start_topup(owner, phone)
    report(f"customer paid but the callback is lost; waiting for funding's status query on {topup['id']} ...")
    settled = await api.settled(topup["id"], timeout_s=LOST_CALLBACK_TIMEOUT_S)
    assert (settled["status"], settled["resolved_by"]) == ("succeeded", "status_query"), settled
    assert await api.wallet_minor(owner) == AMOUNT_MINOR and await api.ledger_credits(topup["id"]) == 1
    report(f"status query settled it: succeeded, wallet:{owner} holds {AMOUNT_MINOR}")
    return settled


async def run_topup_flows(api: TopupApi, report: Report) -> None:
    """Every top-up flow, one after another (the demo's step)."""
    settled = await approved_topup(api, report)
    await duplicate_callback(api, settled, report)
    await declined_topup(api, report)
    await lost_callback_topup(api, report)
