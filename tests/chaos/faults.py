"""Inject a chaos run's faults at seeded moments of its workload and time each recovery.

The seed orders the faults and draws the pause before each, so a run's schedule is reproduced
by its `CHAOS_SEED` (where in a request each fault lands still depends on the machine's speed).
Faults run one after another: a kill -9 and restart of a service, a PostgreSQL restart, a broker
restart, a service frozen (SIGSTOP) past its session timeout and then let run on. Each is timed from the fault until every service answers `/health/ready` with 200.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from clearway.devstack.stack import Platform
from clearway.devstack.testing import wait_until
from tests.chaos.config import BROKER_RESTART, PAUSE_PREFIX, PAUSE_S, POSTGRES_RESTART, ChaosConfig
from tests.chaos.gate import Gate
from tests.chaos.workload import Workload

# Waited past the stated bound so a slow recovery is measured and reported, not just a timeout.
READY_WAIT_FACTOR = 3


@dataclass(frozen=True)
class FaultRecord:
    what: str
    at_s: float  # since the workload started
    transfers_before: int  # transfers acknowledged when it struck
    ready_again_s: float  # from the fault until every service is ready again


def schedule(config: ChaosConfig) -> list[tuple[float, str]]:
    """(pause in seconds before it, fault), in the order they happen."""
    rng = random.Random(config.seed)
    faults = list(config.faults)
    rng.shuffle(faults)
    return [(rng.uniform(*config.fault_gap_s), fault) for fault in faults]


async def all_ready(platform: Platform, timeout_s: float) -> None:
    async with httpx.AsyncClient(timeout=5) as client:

        async def ready() -> bool:
            for service in platform.services:
                try:
                    if (await client.get(f"{platform.url(service)}/health/ready")).status_code != 200:
                        return False
                except httpx.TransportError:
                    return False
            return True

        await wait_until(ready, "every service is ready again", timeout_s=timeout_s, interval_s=0.1)


class FaultInjector:
    def __init__(
        self,
        platform: Platform,
        config: ChaosConfig,
        workload: Workload,
        gate: Gate,
        drained: Callable[[], Awaitable[None]],
    ) -> None:
        self.platform = platform
        self.config = config
        self.workload = workload
        self.gate = gate
        # Waits until everything the workload sent has been applied (before a broker restart).
        self.drained = drained
        self.records: list[FaultRecord] = []

    async def run(self, started: float, stop: asyncio.Event) -> None:
        """Inject every fault in turn, then tell the workload it may stop."""
        try:
            for pause_s, fault in schedule(self.config):
                # The workload runs during the pause: the fault strikes requests in flight.
                await asyncio.sleep(pause_s)
                at_s, transfers_before = time.monotonic() - started, self.workload.transfers_done
                ready_again_s = await self.inject(fault)
                self.records.append(FaultRecord(fault, at_s, transfers_before, ready_again_s))
                print(f"  {at_s:7.1f} s  {fault:<28} ready again after {ready_again_s:.1f} s", flush=True)
        finally:
            stop.set()

    async def inject(self, fault: str) -> float:
        bound = self.config.ready_bound_s * READY_WAIT_FACTOR
        if fault == BROKER_RESTART:
            await self.gate.close()
            try:
                await self.drained()
                began = time.monotonic()
                await asyncio.to_thread(self.platform.restart_broker)
                await all_ready(self.platform, bound)
            finally:
                self.gate.open()
            return time.monotonic() - began
        began = time.monotonic()
        if fault == POSTGRES_RESTART:
            await asyncio.to_thread(self.platform.restart_postgres)
        elif fault.startswith(PAUSE_PREFIX):
            await asyncio.to_thread(self.platform.pause_service, fault.removeprefix(PAUSE_PREFIX), PAUSE_S)
        else:
            service = fault.removeprefix("kill -9 ")
            await asyncio.to_thread(self.platform.stop_service, service, graceful=False)
            await asyncio.to_thread(self.platform.start_service, service, ready_timeout_s=bound)
        await all_ready(self.platform, bound)
        return time.monotonic() - began
