"""Money out (seed 001), as a wallet app, two operators and M-Pesa see it from outside the platform.

The user holds a bearer token (`sub` = their ledger identity): they top up through funding, add a
mobile-money withdrawal method and ask payout for a withdrawal with an Idempotency-Key. One
operator asks for its settlement, a second principal approves it, the sandbox M-Pesa (steered
through payout's `/sandbox/mobile-money`) pays, and the wallet is read back.

Shared by `test_payout_withdrawals.py` (a platform the test starts) and `demo.py` (`make run`).
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
METHODS = "/api/v1/payments/withdrawal-methods"
WITHDRAWALS = "/api/v1/payments/withdrawals"
WALLET = "/api/v1/payments/wallet"
ADMIN = "/api/v1/admin/payments"
SANDBOX = "/sandbox/mobile-money"
TOPUP_MINOR = 150_000  # KES 1,500.00
WITHDRAWAL_MINOR = 50_000  # KES 500.00
WAIT_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 30.0

Report = Callable[[str], None]
MintToken = Callable[[str], str]


def new_phone() -> str:
    return f"+2547{secrets.randbelow(10**8):08d}"


class WithdrawalApi:
    """Payout, funding and the ledger as a user (token), an operator (admin key) and an approver see them."""

    def __init__(self, urls: dict[str, str], admin_key: str, approver_key: str, mint_token: MintToken) -> None:
        self.urls = urls
        self._mint = mint_token
        self.admin = httpx.AsyncClient(
            base_url=urls["payout"], headers={"X-API-Key": admin_key}, timeout=HTTP_TIMEOUT_S
        )
        self.approver = httpx.AsyncClient(
            base_url=urls["payout"], headers={"X-API-Key": approver_key}, timeout=HTTP_TIMEOUT_S
        )
        self.ledger = httpx.AsyncClient(
            base_url=urls["ledger"], headers={"X-API-Key": admin_key}, timeout=HTTP_TIMEOUT_S
        )
        self.funding_admin = httpx.AsyncClient(
            base_url=urls["funding"], headers={"X-API-Key": admin_key}, timeout=HTTP_TIMEOUT_S
        )
        self._users: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for client in (self.admin, self.approver, self.ledger, self.funding_admin, *self._users):
            await client.aclose()

    def as_user(self, identity_id: str, service: str = "payout") -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=self.urls[service],
            headers={"Authorization": f"Bearer {self._mint(identity_id)}"},
            timeout=HTTP_TIMEOUT_S,
        )
        self._users.append(client)
        return client

    async def new_user(self) -> str:
        response = await self.ledger.post("/identities", json={"identity_type": "individual", "first_name": "Baraka"})
        assert response.status_code == 201, f"ledger refused an identity: {response.text}"
        return str(response.json()["identity_id"])

    async def top_up(self, identity_id: str, phone: str, amount_minor: int = TOPUP_MINOR) -> dict[str, Any]:
        """The user tops up their own wallet by M-Pesa (funding's sandbox approves by default)."""
        user = self.as_user(identity_id, "funding")
        started = await user.post(
            TOPUPS,
            json={"amount_minor": amount_minor, "currency": "KES", "phone_number": phone},
            headers={"Idempotency-Key": f"topup-{uuid.uuid4().hex}"},
        )
        assert started.status_code == 201, f"top-up refused: {started.status_code} {started.text}"

        async def settled() -> dict[str, Any] | None:
            topup: dict[str, Any] = (await user.get(f"{TOPUPS}/{started.json()['id']}")).json()
            return topup if topup["status"] != "pending" else None

        topup: dict[str, Any] = await wait_until(settled, "the top-up is settled", timeout_s=WAIT_TIMEOUT_S)
        assert topup["status"] == "succeeded", topup
        return topup

    async def add_method(self, user: httpx.AsyncClient, phone: str) -> dict[str, Any]:
        response = await user.post(METHODS, json={"type": "mobile_money", "provider": "mpesa", "phone_number": phone})
        assert response.status_code == 201, response.text
        assert phone[-9:] not in response.text, "the phone number must only be shown masked"
        method: dict[str, Any] = response.json()
        return method

    async def withdraw(
        self, user: httpx.AsyncClient, method_id: str, amount_minor: int, key: str | None = None
    ) -> httpx.Response:
        return await user.post(
            WITHDRAWALS,
            json={"withdrawal_method_id": method_id, "amount_minor": amount_minor, "currency": "KES"},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )

    async def rail_will(self, phone: str, outcome: str) -> None:
        response = await self.admin.post(f"{SANDBOX}/scenarios", json={"phone": phone, "outcome": outcome})
        assert response.status_code == 201, response.text

    async def request_settlement(self, withdrawal_id: str) -> dict[str, Any]:
        response = await self.admin.post(f"{ADMIN}/withdrawals/{withdrawal_id}/settlement-requests")
        assert response.status_code == 202, response.text
        request: dict[str, Any] = response.json()
        return request

    async def approve(self, approval_id: str) -> dict[str, Any]:
        response = await self.approver.post(f"{ADMIN}/approval-requests/{approval_id}/approvals")
        assert response.status_code == 200, response.text
        decided: dict[str, Any] = response.json()
        return decided

    async def settled(
        self, user: httpx.AsyncClient, withdrawal_id: str, *, timeout_s: float = WAIT_TIMEOUT_S
    ) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            body: dict[str, Any] = (await user.get(f"{WITHDRAWALS}/{withdrawal_id}")).json()
            return body if body["withdrawal"]["status"] not in ("approved", "processing") else None

        result: dict[str, Any] = await wait_until(done, f"withdrawal {withdrawal_id} is settled", timeout_s=timeout_s)
        return result

    async def wallet(self, user: httpx.AsyncClient) -> dict[str, int]:
        lines = (await user.get(WALLET)).json()["data"]
        for line in lines:
            if line["currency"] == "KES":
                return {key: int(value) for key, value in line.items() if key != "currency"}
        return {"balance_minor": 0, "reserved_minor": 0, "spendable_minor": 0}

    async def wallet_settled(self, user: httpx.AsyncClient, balance_minor: int, reserved_minor: int) -> None:
        async def reached() -> bool:
            shown = await self.wallet(user)
            return (shown["balance_minor"], shown["reserved_minor"]) == (balance_minor, reserved_minor)

        await wait_until(reached, f"the wallet shows {balance_minor} with {reserved_minor} reserved", timeout_s=20)


async def withdrawal_paid_out(api: WithdrawalApi, report: Report) -> dict[str, Any]:
    """Top up, withdraw, a second principal approves, the sandbox pays; balances at each step."""
    identity_id, phone = await api.new_user(), new_phone()
    topup = await api.top_up(identity_id, phone)
    user = api.as_user(identity_id)
    report(f"user {identity_id} topped up {TOPUP_MINOR} KES minor units by M-Pesa (receipt {topup['receipt']})")
    method = await api.add_method(user, phone)
    created = await api.withdraw(user, method["id"], WITHDRAWAL_MINOR)
    assert created.status_code == 201, created.text
    withdrawal = created.json()["withdrawal"]
    shown = await api.wallet(user)
    assert (shown["reserved_minor"], shown["spendable_minor"]) == (WITHDRAWAL_MINOR, TOPUP_MINOR - WITHDRAWAL_MINOR)
    report(
        f"withdrawal {withdrawal['id']} of {WITHDRAWAL_MINOR} to {method['phone_number_masked']}: "
        f"pending approval; wallet {shown}"
    )
    request = await api.request_settlement(withdrawal["id"])
    decided = await api.approve(request["id"])
    report(f"settlement asked by {request['requested_by']}, approved by {decided['decided_by']}")
    result = await api.settled(user, withdrawal["id"])
    assert result["withdrawal"]["status"] == "succeeded", result
    await api.wallet_settled(user, TOPUP_MINOR - WITHDRAWAL_MINOR, 0)
    report(f"sandbox M-Pesa paid it (receipt {result['withdrawal']['receipt']}); wallet {await api.wallet(user)}")
    return result
