"""The mixed workload a chaos run drives while faults are injected, as clients would drive it.

- ledger transfers over HTTP, each retried with its own Idempotency-Key until acknowledged;
- processor deposits (`transfer.created`) over Kafka, each re-sent with its own event id until the
  broker acknowledges it;
- wallet top-ups through funding (sandbox M-Pesa approves), retried with their Idempotency-Key;
- card authorizations over HTTP and over `card.authorization.requested`, some reversed
  (`workload_cards.py`);
- withdrawals from funded wallets by end users, approved or rejected by a second principal and
  paid by the sandbox rail (`workload_withdrawals.py`);
- post-fundings: payables, an invoice, the payer's transfer over Kafka, the link (`workload_fundings.py`);
- ledger transfers as Kafka commands on `ledger.transaction.requested` (`workload_kafka.py`).

Each kind keeps going, at its own pace, until the faults are over (`stop`) and it has sent at
least its configured count. Only what was acknowledged is expected to exist afterwards, and it
must exist exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from tests.chaos.config import ChaosConfig
from tests.chaos.gate import Gate
from tests.chaos.requests import HTTP_TIMEOUT_S, RETRY_PAUSE_S, Tally, post_until_acknowledged
from tests.chaos.workload_cards import CardFlow
from tests.chaos.workload_fundings import PostFundingFlow
from tests.chaos.workload_kafka import LedgerCommands
from tests.chaos.workload_withdrawals import WithdrawalFlow
from tests.e2e.topups_scenario import AMOUNT_MINOR, TOPUPS, new_phone
from tests.e2e.walking_skeleton import Processor, new_event_id, new_transfer

TRANSFER_SOURCE = "@FaultTestFunding"


class Workload:
    def __init__(
        self,
        config: ChaosConfig,
        urls: dict[str, str],
        key: str,
        balances: list[str],
        run_id: str,
        gate: Gate,
        *,
        approver_key: str | None = None,
        mint_token: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.urls = urls
        self.key = key
        self.run_id = run_id
        self.balances = balances
        self.gate = gate
        self.tally = Tally()
        self.ledger = httpx.AsyncClient(base_url=urls["ledger"], headers={"X-API-Key": key}, timeout=HTTP_TIMEOUT_S)
        self.funding = httpx.AsyncClient(base_url=urls["funding"], headers={"X-API-Key": key}, timeout=HTTP_TIMEOUT_S)
        self.expected_balances: Counter[str] = Counter()
        self.transfer_references: list[str] = []
        self.deposit_transfer_ids: list[str] = []
        # top-up id -> the wallet owner it credits
        self.topups: dict[str, str] = {}
        self.cards = CardFlow(self)
        self.withdrawals = WithdrawalFlow(self, approver_key, mint_token)
        self.fundings = PostFundingFlow(self)
        self.commands = LedgerCommands(self)

    async def aclose(self) -> None:
        for flow in (self.cards, self.withdrawals, self.fundings):
            await flow.aclose()
        await self.ledger.aclose()
        await self.funding.aclose()

    def transfer_reference(self, index: int) -> str:
        return f"fault-{self.run_id}-{index}"

    @property
    def transfers_done(self) -> int:
        return len(self.transfer_references)

    async def run(self, processor: Processor, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        config = self.config
        await asyncio.gather(
            self.repeat(
                self.transfer,
                self.config.transfers,
                self.config.transfer_pause_s,
                stop,
                workers=self.config.transfers_in_flight,
            ),
            self.repeat(lambda i: self.deposit(processor, i), self.config.deposits, self.config.deposit_pause_s, stop),
            self.repeat(self.topup, self.config.topups, self.config.topup_pause_s, stop),
            self.cards.run(producer, stop),
            self.repeat(self.withdrawals.one, config.withdrawals, config.withdrawal_pause_s, stop),
            self.repeat(lambda i: self.fundings.one(producer, i), config.fundings, config.funding_pause_s, stop),
            self.repeat(
                lambda i: self.commands.send(producer, i), config.kafka_transfers, config.command_pause_s, stop
            ),
        )

    @staticmethod
    async def repeat(
        send: Callable[[int], Awaitable[None]], at_least: int, pause_s: float, stop: asyncio.Event, *, workers: int = 1
    ) -> None:
        """Send request 0, 1, ... from `workers` concurrent clients until stopped and `at_least` sent."""
        if not at_least:
            return
        counter = itertools.count()

        async def worker() -> None:
            while True:
                index = next(counter)
                if index >= at_least and stop.is_set():
                    return
                await send(index)
                await asyncio.sleep(pause_s)

        await asyncio.gather(*(worker() for _ in range(workers)))

    # -- ledger transfers over HTTP -------------------------------------------------------------

    async def transfer(self, index: int) -> None:
        destination = self.balances[index % len(self.balances)]
        amount = 1 + index % 5
        reference = self.transfer_reference(index)
        body = {
            "precise_amount": amount,
            "precision": 100,
            "currency": "USD",
            "reference": reference,
            "source": TRANSFER_SOURCE,
            "destination": destination,
            "allow_overdraft": True,
        }
        async with self.gate.operation():
            await post_until_acknowledged(
                self.ledger,
                "/transactions",
                body,
                key=reference,
                kind="ledger transfer",
                tally=self.tally,
                deadline_s=self.config.retry_deadline_s,
            )
        self.expected_balances[destination] += amount
        self.transfer_references.append(reference)

    # -- processor deposits over Kafka ----------------------------------------------------------

    async def deposit(self, processor: Processor, index: int) -> None:
        body, event_id = new_transfer(10_000 + index), new_event_id()
        deadline = time.monotonic() + self.config.retry_deadline_s
        async with self.gate.operation():
            while True:
                self.tally.requests["processor deposit"] += 1
                try:
                    # The same event id on every attempt: a processor's retry, deduplicated by the inbox.
                    await processor.publish(body, event_id=event_id)
                    break
                except KafkaError as error:
                    self.tally.answers[f"processor deposit {type(error).__name__}"] += 1
                    assert time.monotonic() < deadline, f"deposit {body['transfer_id']} never acknowledged"
                    await asyncio.sleep(RETRY_PAUSE_S)
        self.tally.answers["processor deposit acked"] += 1
        self.tally.acknowledged["processor deposit"] += 1
        self.deposit_transfer_ids.append(str(body["transfer_id"]))

    # -- top-ups through funding ----------------------------------------------------------------

    async def new_wallet_owner(self) -> str:
        # Not idempotent: a retry after a lost answer makes a second identity, which is harmless.
        body = {"identity_type": "individual", "first_name": "Amina"}
        answer = await post_until_acknowledged(
            self.ledger,
            "/identities",
            body,
            key=f"identity-{uuid.uuid4().hex}",
            kind="ledger identity",
            tally=self.tally,
            deadline_s=self.config.retry_deadline_s,
        )
        identity_id: str = answer.json()["identity_id"]
        return identity_id

    async def topup(self, index: int) -> None:
        async with self.gate.operation():
            owner = await self.new_wallet_owner()
            # The sandbox's default customer approves: no scenario to set (it would die with funding).
            body = {"amount_minor": AMOUNT_MINOR, "currency": "KES", "phone_number": new_phone(), "identity_id": owner}
            answer = await post_until_acknowledged(
                self.funding,
                TOPUPS,
                body,
                key=f"topup-{self.run_id}-{index}",
                kind="funding top-up",
                tally=self.tally,
                deadline_s=self.config.retry_deadline_s,
            )
        self.topups[answer.json()["id"]] = owner
