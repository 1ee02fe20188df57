"""Ledger transfers sent as Kafka commands (`ledger.transaction.requested`), as a platform service
sends them: each with a deterministic reference (its idempotency key), re-sent with the same event
id until the broker acknowledges it. They credit balances of their own (`@ChaosKafka-<run>-<n>`,
created on first use), so each balance must end at the sum of its acknowledged commands, and each
reference must be applied once (invariants_flows.py).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer

from tests.chaos.requests import publish_until_acknowledged

if TYPE_CHECKING:
    from tests.chaos.workload import Workload

COMMAND_TOPIC = "ledger.transaction.requested"
COMMAND_SOURCE = "@FaultTestFunding-USD"


class LedgerCommands:
    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.destinations = [f"@ChaosKafka-{workload.run_id}-{n}" for n in range(max(1, workload.config.balances))]
        self.expected: Counter[str] = Counter()  # destination indicator -> minor units acknowledged
        self.references: list[str] = []

    def reference(self, index: int) -> str:
        return f"chaos-{self.workload.run_id}-command-{index}"

    async def send(self, producer: AIOKafkaProducer, index: int) -> None:
        destination = self.destinations[index % len(self.destinations)]
        amount_minor = 1 + index % 7
        reference = self.reference(index)
        command = {
            "reference": reference,
            "amount_minor": amount_minor,
            "currency": "USD",
            "source": COMMAND_SOURCE,
            "destination": destination,
            "allow_overdraft": True,
        }
        async with self.workload.gate.operation():
            await publish_until_acknowledged(
                producer,
                COMMAND_TOPIC,
                command,
                key=reference,
                event_id=str(uuid.uuid4()),
                kind="ledger transfer (Kafka)",
                tally=self.workload.tally,
                deadline_s=self.workload.config.retry_deadline_s,
            )
        self.expected[destination] += amount_minor
        self.references.append(reference)
