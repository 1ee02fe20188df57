"""Run one chaos run against a started platform: workload and faults together, then the invariants.

Shared by `python -m tests.chaos` (`make chaos`, its own PostgreSQL and broker) and the
end-to-end suite's fault test (a small configuration on the session's broker).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from clearway.devstack.stack import Platform
from clearway.devstack.testing import started_producer
from tests.chaos.config import ChaosConfig
from tests.chaos.faults import FaultInjector
from tests.chaos.gate import Gate
from tests.chaos.invariants import (
    Check,
    balances_match,
    books_verify,
    deposits_exactly_once,
    events_delivered,
    nothing_dead_lettered,
    topups_exactly_once,
    transfers_exactly_once,
)
from tests.chaos.invariants_flows import (
    card_authorizations_once,
    ledger_commands_once,
    no_hold_of_a_finished_workflow,
    post_fundings_once,
    withdrawals_once,
)
from tests.chaos.report import Summary
from tests.chaos.workload import Workload
from tests.e2e.walking_skeleton import Processor

DRAIN_BOUND_S = 120.0


async def new_balances(platform: Platform, count: int, run_id: str) -> list[str]:
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger:
        ledger_id = (await ledger.post("/ledgers", json={"name": f"chaos {run_id}"})).json()["ledger_id"]
        return [
            (await ledger.post("/balances", json={"ledger_id": ledger_id, "currency": "USD"})).json()["balance_id"]
            for _ in range(count)
        ]


async def run_chaos(platform: Platform, config: ChaosConfig, *, run_id: str | None = None) -> Summary:
    """Drive the workload while the faults are injected; check the invariants once all is applied."""
    run_id = run_id or uuid.uuid4().hex[:8]
    gate = Gate()
    workload = Workload(
        config,
        {s: platform.url(s) for s in platform.services},
        platform.api_key,
        await new_balances(platform, config.balances, run_id),
        run_id,
        gate,
        approver_key=platform.approver_api_key,
        mint_token=platform.user_token,
    )

    async def drained() -> None:
        for check in (
            await deposits_exactly_once(platform, workload, "funding", "deposits", DRAIN_BOUND_S),
            await deposits_exactly_once(platform, workload, "reconciliation", "external_transactions", DRAIN_BOUND_S),
            await card_authorizations_once(platform, workload, DRAIN_BOUND_S),
            await ledger_commands_once(platform, workload, DRAIN_BOUND_S),
            await events_delivered(platform, DRAIN_BOUND_S),
        ):
            assert check.ok, f"before the broker restart, {check.name}: {check.detail}"

    injector = FaultInjector(platform, config, workload, gate, drained)
    started = time.monotonic()
    try:
        async with (
            Processor(platform.kafka_bootstrap_servers) as processor,
            started_producer(platform.kafka_bootstrap_servers) as producer,
        ):
            stop = asyncio.Event()
            await asyncio.gather(workload.run(processor, producer, stop), injector.run(started, stop))
        checks = await check_all(platform, workload, config)
    finally:
        await workload.aclose()
    unexpected = workload.tally.unexpected
    checks.append(
        Check(
            "answers: only acknowledgements and outage problems (409/502-504)",
            not unexpected,
            f"{len(unexpected)} others, first: {unexpected[0]}" if unexpected else "no 500, nothing undocumented",
        )
    )
    slowest = max((f.ready_again_s for f in injector.records), default=0.0)
    checks.append(
        Check(
            f"every service ready again within {config.ready_bound_s:g} s of each fault",
            slowest <= config.ready_bound_s and len(injector.records) == len(config.faults),
            f"slowest {slowest:.1f} s, {len(injector.records)} of {len(config.faults)} faults",
        )
    )
    return Summary(
        config=config,
        duration_s=time.monotonic() - started,
        faults=injector.records,
        checks=checks,
        requests=dict(workload.tally.requests),
        acknowledged=dict(workload.tally.acknowledged),
        answers=dict(workload.tally.answers),
    )


async def check_all(platform: Platform, workload: Workload, config: ChaosConfig) -> list[Check]:
    bound = config.settle_bound_s
    checks = [
        await transfers_exactly_once(platform, workload),
        await balances_match(platform, workload, bound),
        await ledger_commands_once(platform, workload, bound),
        await deposits_exactly_once(platform, workload, "funding", "deposits", bound),
        await deposits_exactly_once(platform, workload, "reconciliation", "external_transactions", bound),
    ]
    if workload.topups:
        checks.append(await topups_exactly_once(platform, workload, bound))
    if workload.fundings.linked:
        checks.append(await post_fundings_once(platform, workload, bound))
    if workload.cards.requested:
        checks.append(await card_authorizations_once(platform, workload, bound))
    if workload.withdrawals.asked:
        checks.append(await withdrawals_once(platform, workload, bound))
    return [
        *checks,
        await books_verify(platform),
        await no_hold_of_a_finished_workflow(platform),
        await events_delivered(platform, bound),
        await nothing_dead_lettered(platform),
    ]
