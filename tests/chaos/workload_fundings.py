"""Post-fundings (seed 000) in the chaos workload, as a client app and the payer's bank drive them.

Two payables (a payee identity each) are created and approved, one funding invoice covers them,
the payer's bank reports the settled transfer quoting the invoice's payment reference
(`transfer.created`, re-sent with its event id), and the client links the deposit once funding has
it. Every request is retried under one Idempotency-Key. Afterwards each linked funding must be paid
out, each payable paid into its payee's wallet exactly once (invariants_flows.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from aiokafka import AIOKafkaProducer

from tests.chaos.requests import (
    HTTP_TIMEOUT_S,
    Verdict,
    problem_code,
    publish_until_acknowledged,
    send_until_acknowledged,
)
from tests.e2e.walking_skeleton import TRANSFER_TOPIC, new_transfer

if TYPE_CHECKING:
    from tests.chaos.workload import Workload

PAYABLE_AMOUNTS_MINOR = (120_050, 99_999)
RECIPIENT = {"name": "Globex Finance", "email": "ap@globex.example"}
# The funding is claimed, or already paid out, by an earlier attempt whose answer was lost.
LINKED_STATUSES = ("linking", "funded", "paid_out")


@dataclass
class LinkedFunding:
    funding_id: str
    transfer_id: str
    # payable id -> (payee id, amount in minor units)
    payables: dict[str, tuple[str, int]]


def already_approved(answer: httpx.Response) -> Verdict:
    return "done" if problem_code(answer) == "ILLEGAL_STATE_TRANSITION" and "approved" in answer.text else None


def link_verdict(answer: httpx.Response) -> Verdict:
    code = problem_code(answer)
    if code == "DEPOSIT_NOT_FOUND":
        return "wait"  # funding has not consumed the payer's transfer yet
    if code in ("DEPOSIT_ALREADY_LINKED", "ILLEGAL_STATE_TRANSITION"):
        return "done" if answer.json().get("current_status", "paid_out") in LINKED_STATUSES else None
    return None


class PostFundingFlow:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.client = httpx.AsyncClient(
            base_url=workload.urls["funding"], headers={"X-API-Key": workload.key}, timeout=HTTP_TIMEOUT_S
        )
        self.linked: list[LinkedFunding] = []

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _post(self, path: str, body: dict[str, Any] | None, key: str, kind: str, **kw: Any) -> httpx.Response:
        return await send_until_acknowledged(
            self.client,
            path,
            body,
            key=key,
            kind=kind,
            tally=self.workload.tally,
            deadline_s=self.workload.config.retry_deadline_s,
            **kw,
        )

    async def one(self, producer: AIOKafkaProducer, index: int) -> None:
        key = f"chaos-{self.workload.run_id}-funding-{index}"
        async with self.workload.gate.operation():
            payables: dict[str, tuple[str, int]] = {}
            for number, amount_minor in enumerate(PAYABLE_AMOUNTS_MINOR):
                payee = await self.workload.new_wallet_owner()
                body = {
                    "payee_id": payee,
                    "amount_minor": amount_minor,
                    "currency": "USD",
                    "description": f"Chaos work by {payee}",
                    "external_id": f"{key}-{number}",
                }
                created = await self._post("/payable", body, f"{key}-payable-{number}", "post-funding setup")
                payable_id = created.json()["id"]
                await self._post(
                    f"/payable/{payable_id}/approve",
                    None,
                    f"{key}-approve-{number}",
                    "post-funding setup",
                    judge=already_approved,
                )
                payables[payable_id] = (payee, amount_minor)
            funding_body = {"payable_ids": list(payables), "recipient": RECIPIENT}
            funding = (await self._post("/funding", funding_body, key, "post-funding")).json()
            transfer = new_transfer(funding["total_minor"], reference=funding["invoice"]["payment_reference"])
            await publish_until_acknowledged(
                producer,
                TRANSFER_TOPIC,
                transfer,
                key=str(transfer["transfer_id"]),
                event_id=str(uuid.uuid4()),
                kind="post-funding payment (Kafka)",
                tally=self.workload.tally,
                deadline_s=self.workload.config.retry_deadline_s,
            )
            await self._post(
                f"/funding/{funding['id']}/link-deposit",
                {"transfer_id": transfer["transfer_id"]},
                f"{key}-link",
                "post-funding link",
                judge=link_verdict,
            )
        self.linked.append(LinkedFunding(funding["id"], str(transfer["transfer_id"]), payables))
