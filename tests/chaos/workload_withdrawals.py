"""End users' withdrawals in the chaos workload, as a wallet app and two operators drive them.

Each withdrawal has a user of its own (a ledger identity) whose KES wallet is funded by a ledger
transfer, a mobile-money method, and one `POST /api/v1/payments/withdrawals` retried under one
Idempotency-Key with the user's token. An operator then asks for its settlement and a second
principal approves it (the sandbox rail pays) or, every third one, rejects it. Afterwards each key
must have made one withdrawal, its hold released exactly when the withdrawal is finished and the
wallet debited only by the paid ones (invariants_flows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from tests.chaos.requests import HTTP_TIMEOUT_S, Verdict, problem_code, send_until_acknowledged
from tests.e2e.withdrawals_scenario import ADMIN, METHODS, WITHDRAWALS, new_phone

if TYPE_CHECKING:
    from tests.chaos.workload import Workload

CURRENCY = "KES"
FUNDED_MINOR = 200_000
WITHDRAWAL_MINOR = 50_000
WALLET_SOURCE = f"@ChaosWalletFunding-{CURRENCY}"


@dataclass
class AskedWithdrawal:
    user_id: str
    idempotency_key: str
    withdrawal_id: str
    approve: bool


class WithdrawalFlow:
    def __init__(self, workload: Workload, approver_key: str | None, mint_token: Callable[[str], str] | None) -> None:
        self.workload = workload
        self.mint_token = mint_token
        payout = workload.urls["payout"]
        self.admin = httpx.AsyncClient(base_url=payout, headers={"X-API-Key": workload.key}, timeout=HTTP_TIMEOUT_S)
        self.approver = httpx.AsyncClient(
            base_url=payout, headers={"X-API-Key": approver_key or ""}, timeout=HTTP_TIMEOUT_S
        )
        # acknowledged withdrawals, by their Idempotency-Key
        self.asked: dict[str, AskedWithdrawal] = {}

    async def aclose(self) -> None:
        await self.admin.aclose()
        await self.approver.aclose()

    def _send(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any] | None, key: str, kind: str, **kw: Any
    ) -> Any:
        tally, deadline_s = self.workload.tally, self.workload.config.retry_deadline_s
        return send_until_acknowledged(client, path, body, key=key, kind=kind, tally=tally, deadline_s=deadline_s, **kw)

    async def funded_user(self, index: int) -> str:
        user = await self.workload.new_wallet_owner()
        ledger = self.workload.ledger
        body = {"indicator": f"wallet:{user}", "currency": CURRENCY, "identity_id": user}
        wallet = await self._send(ledger, "/balances", body, f"wallet-{user}", "wallet funding")
        transfer = {
            "precise_amount": FUNDED_MINOR,
            "precision": 100,
            "currency": CURRENCY,
            "reference": f"chaos-{self.workload.run_id}-wallet-{index}",
            "source": WALLET_SOURCE,
            "destination": wallet.json()["balance_id"],
            "allow_overdraft": True,
        }
        await self._send(ledger, "/transactions", transfer, str(transfer["reference"]), "wallet funding")
        return user

    async def one(self, index: int) -> None:
        assert self.mint_token is not None, "withdrawals need end-user tokens"
        key = f"chaos-{self.workload.run_id}-withdrawal-{index}"
        async with self.workload.gate.operation():
            user_id = await self.funded_user(index)
            headers = {"Authorization": f"Bearer {self.mint_token(user_id)}"}
            async with httpx.AsyncClient(base_url=self.admin.base_url, headers=headers, timeout=HTTP_TIMEOUT_S) as user:
                method_body = {"type": "mobile_money", "provider": "mpesa", "phone_number": new_phone()}
                method = await self._send(user, METHODS, method_body, f"method-{key}", "withdrawal method")
                body = {
                    "withdrawal_method_id": method.json()["id"],
                    "amount_minor": WITHDRAWAL_MINOR,
                    "currency": CURRENCY,
                }
                created = await self._send(user, WITHDRAWALS, body, key, "withdrawal")
            asked = AskedWithdrawal(user_id, key, created.json()["withdrawal"]["id"], approve=index % 3 != 2)
            self.asked[key] = asked
            await self.decide(asked)

    async def decide(self, asked: AskedWithdrawal) -> None:
        """One principal asks for the settlement, another approves or rejects it."""

        def decided_already(answer: httpx.Response) -> Verdict:
            # An earlier attempt's approval or rejection went through; its answer was lost.
            return "done" if problem_code(answer) == "APPROVAL_REQUEST_DECIDED" else None

        wd = asked.withdrawal_id
        request = await self._send(
            self.admin, f"{ADMIN}/withdrawals/{wd}/settlement-requests", None, f"settle-{wd}", "withdrawal decision"
        )
        approval = request.json()["id"]
        if asked.approve:
            path, body = f"{ADMIN}/approval-requests/{approval}/approvals", None
        else:
            path, body = f"{ADMIN}/approval-requests/{approval}/rejections", {"reason": "chaos run: rejected"}
        await self._send(self.approver, path, body, f"decide-{wd}", "withdrawal decision", judge=decided_already)
