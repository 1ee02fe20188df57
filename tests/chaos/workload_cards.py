"""Card authorizations in the chaos workload, as an issuer's back office and a card processor send them.

A few card accounts (a ledger identity each, a credit limit, one card) are opened first; then
authorizations alternate between the processor's two doors: `POST /authorizations` (retried under
the same processor `authorization_id`) and `card.authorization.requested` (re-sent with the same
event id). Every fifth asks for more than the card's limit (declined by the ledger's refusal to
hold it); every third approved one over HTTP is reversed. Afterwards each processor id must have
one decision, its hold open exactly when approved (invariants_flows.py).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
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

if TYPE_CHECKING:
    from tests.chaos.workload import Workload

CARD_ACCOUNTS = 4
CREDIT_LIMIT_MINOR = 10_000_000
OVER_LIMIT_MINOR = CREDIT_LIMIT_MINOR + 1
REQUESTED_TOPIC = "card.authorization.requested"


class CardFlow:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.client = httpx.AsyncClient(
            base_url=workload.urls["authorization"], headers={"X-API-Key": workload.key}, timeout=HTTP_TIMEOUT_S
        )
        self.cards: list[str] = []
        # processor authorization id -> the door it came through ("http" or "kafka"), once acknowledged
        self.requested: dict[str, str] = {}
        # our ids (`cau_...`) of the approved authorizations whose reversal was acknowledged
        self.reversed: set[str] = set()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def run(self, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        config = self.workload.config
        if not config.authorizations:
            return
        await self.open_cards()
        await self.workload.repeat(
            lambda i: self.authorize(producer, i), config.authorizations, config.authorization_pause_s, stop, workers=2
        )

    async def _post(self, path: str, body: dict[str, Any], *, key: str, kind: str) -> httpx.Response:
        return await send_until_acknowledged(
            self.client,
            path,
            body,
            key=key,
            kind=kind,
            tally=self.workload.tally,
            deadline_s=self.workload.config.retry_deadline_s,
        )

    async def open_cards(self) -> None:
        run_id = self.workload.run_id
        for index in range(CARD_ACCOUNTS):
            async with self.workload.gate.operation():
                holder = await self.workload.new_wallet_owner()
                body = {
                    "identity_id": holder,
                    "currency": "USD",
                    "credit_limit_minor": CREDIT_LIMIT_MINOR,
                    "billing_cycle_day": 1,
                    "payment_due_days": 21,
                }
                account = await self._post(
                    "/card-accounts", body, key=f"card-account-{run_id}-{index}", kind="card setup"
                )
                card = await self._post(
                    f"/card-accounts/{account.json()['id']}/cards",
                    {"last_four": f"{4000 + index}", "expires": "09/39"},
                    key=f"card-{run_id}-{index}",
                    kind="card setup",
                )
            self.cards.append(card.json()["id"])

    def request(self, index: int) -> dict[str, Any]:
        return {
            "authorization_id": f"chaos-{self.workload.run_id}-auth-{index}",
            "card_id": self.cards[index % len(self.cards)],
            "amount_minor": OVER_LIMIT_MINOR if index % 5 == 4 else 100 + index % 900,
            "currency": "USD",
            "merchant_name": "Corner Coffee",
            "merchant_category_code": "5814",
            "channel": "pos",
            "requested_at": datetime.now(UTC).isoformat(),
        }

    async def authorize(self, producer: AIOKafkaProducer, index: int) -> None:
        body = self.request(index)
        processor_id = str(body["authorization_id"])
        async with self.workload.gate.operation():
            if index % 2:
                await publish_until_acknowledged(
                    producer,
                    REQUESTED_TOPIC,
                    body,
                    key=str(body["card_id"]),
                    event_id=str(uuid.uuid4()),
                    kind="card authorization (Kafka)",
                    tally=self.workload.tally,
                    deadline_s=self.workload.config.retry_deadline_s,
                )
                self.requested[processor_id] = "kafka"
                return
            answer = await self._post("/authorizations", body, key=processor_id, kind="card authorization (HTTP)")
            self.requested[processor_id] = "http"
            decided = answer.json()
            if decided["decision"] == "approved" and index % 3 == 0:
                await self.reverse(decided["id"])

    async def reverse(self, authorization_ref: str) -> None:
        def judge(answer: httpx.Response) -> Verdict:
            # Already reversed by an attempt whose answer was lost: the authorization says so.
            # (Still being decided or reversed answers 409 with Retry-After: waited out under this
            # same key, which the platform does not hold to that answer.)
            finished = problem_code(answer) == "AUTHORIZATION_NOT_REVERSIBLE" and " is reversed" in answer.text
            return "done" if finished else None

        await send_until_acknowledged(
            self.client,
            f"/authorizations/{authorization_ref}/reversals",
            {},
            key=f"reversal-{authorization_ref}",
            kind="card reversal (HTTP)",
            tally=self.workload.tally,
            deadline_s=self.workload.config.retry_deadline_s,
            judge=judge,
        )
        self.reversed.add(authorization_ref)
