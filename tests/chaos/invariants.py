"""What must hold after a chaos run, each check named as the table prints it.

Asynchronous effects (consumers, callbacks) get `settle_bound_s` to land; after that a check
that still fails is a finding, not a timeout to retry.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from clearway.devstack.stack import Platform
from tests.chaos.databases import connected, dead_letter_kinds, event_counts, undelivered_events
from tests.chaos.workload import Workload
from tests.e2e.topups_scenario import AMOUNT_MINOR, SANDBOX, TOPUPS

POLL_INTERVAL_S = 0.5
VERIFY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    # Acknowledged requests whose effect is missing or doubled (exactly-once checks only).
    lost: int = 0


async def settled(condition: Callable[[], Awaitable[str | None]], bound_s: float) -> str | None:
    """Poll `condition` (None when it holds, else what is still wrong) until it holds or `bound_s` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while True:
        problem = await condition()
        if problem is None or loop.time() >= deadline:
            return problem
        await asyncio.sleep(POLL_INTERVAL_S)


def check(name: str, problem: str | None, fine: str, *, lost: int = 0) -> Check:
    return Check(name, problem is None and not lost, fine if problem is None else problem, lost)


async def transfers_exactly_once(platform: Platform, workload: Workload) -> Check:
    async with connected(platform, "ledger") as db:
        rows = await db.fetch(
            "SELECT reference, count(*) AS n FROM transactions WHERE reference LIKE $1 GROUP BY reference",
            f"fault-{workload.run_id}-%",
        )
    found = {row["reference"]: row["n"] for row in rows}
    acknowledged = set(workload.transfer_references)
    doubled = sorted(r for r, n in found.items() if n > 1)
    missing = sorted(acknowledged - found.keys())
    problem = (
        f"{len(missing)} missing {missing[:3]}, {len(doubled)} doubled {doubled[:3]}" if missing or doubled else None
    )
    return check(
        "ledger transfers: each acknowledged one applied once", problem, f"{len(acknowledged)} of {len(found)}"
    )


async def balances_match(platform: Platform, workload: Workload, bound_s: float) -> Check:
    async with httpx.AsyncClient(
        base_url=platform.url("ledger"), headers={"X-API-Key": platform.api_key}, timeout=30
    ) as ledger:

        async def differences() -> str | None:
            actual = {b: (await ledger.get(f"/balances/{b}")).json()["balance"] for b in workload.expected_balances}
            wrong = {b: (actual[b], want) for b, want in workload.expected_balances.items() if actual[b] != want}
            return f"balance (actual, expected): {wrong}" if wrong else None

        problem = await settled(differences, bound_s)
    return check("ledger balances equal the acknowledged transfers", problem, f"{len(workload.balances)} balances")


async def deposits_exactly_once(
    platform: Platform, workload: Workload, service: str, table: str, bound_s: float
) -> Check:
    wanted = workload.deposit_transfer_ids
    lost: list[int] = [0]

    async def differences() -> str | None:
        async with connected(platform, service) as db:
            rows = await db.fetch(
                f"SELECT transfer_id, count(*) AS n FROM {table} WHERE transfer_id = ANY($1) GROUP BY transfer_id",
                wanted,
            )
        found = {row["transfer_id"]: row["n"] for row in rows}
        missing = [t for t in wanted if t not in found]
        doubled = [t for t, n in found.items() if n > 1]
        return (
            f"{len(missing)} missing {missing[:3]}, {len(doubled)} doubled {doubled[:3]}"
            if missing or doubled
            else None
        )

    problem = await settled(differences, bound_s)
    return check(
        f"processor deposits: each acknowledged one in {service} once",
        problem,
        f"{len(wanted)} deposits",
        lost=lost[0],
    )


async def topups_exactly_once(platform: Platform, workload: Workload, bound_s: float) -> Check:
    """A succeeded top-up credits its wallet once, a failed one not at all.

    The sandbox M-Pesa lives inside funding's process: a push it had not answered when funding was
    killed is forgotten with it, and that top-up stays pending (a real M-Pesa would still answer
    the status query). Those are counted apart; they must not have credited anything either.
    """
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("funding"), headers=headers, timeout=30) as funding:

        async def statuses() -> dict[str, dict[str, object]]:
            return {t: (await funding.get(f"{TOPUPS}/{t}")).json() for t in workload.topups}

        async def known_to_sandbox() -> set[str]:
            answer = await funding.get(f"{SANDBOX}/requests", params={"limit": 1000})
            return {request["checkout_request_id"] for request in answer.json()["data"]}

        async def pending_that_can_settle() -> str | None:
            known = await known_to_sandbox()
            waiting = [
                t
                for t, s in (await statuses()).items()
                if s["status"] == "pending" and s["checkout_request_id"] in known
            ]
            return f"{len(waiting)} top-ups still pending" if waiting else None

        problem = await settled(pending_that_can_settle, bound_s)
        final = await statuses()
    async with connected(platform, "ledger") as db:
        rows = await db.fetch(
            "SELECT reference, count(*) AS n FROM transactions WHERE reference = ANY($1) GROUP BY reference",
            [f"topup:{t}" for t in workload.topups],
        )
    credits = {row["reference"].removeprefix("topup:"): row["n"] for row in rows}
    wrong = []
    outcomes: dict[str, int] = {}
    for topup_id, topup in final.items():
        status = str(topup["status"])
        outcomes[status] = outcomes.get(status, 0) + 1
        expected = 1 if status == "succeeded" else 0
        if credits.get(topup_id, 0) != expected or topup["amount_minor"] != AMOUNT_MINOR:
            wrong.append(f"{topup_id} {status} credited {credits.get(topup_id, 0)}x")
    if wrong:
        problem = f"{len(wrong)} wrong: {wrong[:3]}"
    detail = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none"
    if outcomes.get("pending"):
        detail += " (sandbox push lost with the killed funding process; nothing credited)"
    return check("top-ups: succeeded credited once, others not at all", problem, detail, lost=len(wrong))


async def books_verify(platform: Platform) -> Check:
    verify = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "clearway.ledger.verify", "--database-url", platform.database_url("ledger")],
        capture_output=True,
        text=True,
        timeout=VERIFY_TIMEOUT_S,
    )
    problem = None if verify.returncode == 0 else (verify.stdout + verify.stderr)[-600:]
    return check("every ledger balance equals its entries (clearway.ledger.verify)", problem, "exit 0")


async def events_delivered(platform: Platform, bound_s: float) -> Check:
    async def findings() -> str | None:
        found = await undelivered_events(platform)
        return "; ".join(found) if found else None

    problem = await settled(findings, bound_s)
    counts = await event_counts(platform)
    detail = (
        f"{counts['published']} of {counts['outbox']} outbox events published, each in every consuming inbox "
        f"({counts['inbox']} inbox rows)"
    )
    return check("no event lost or applied twice: outbox and inboxes agree", problem, detail)


async def nothing_dead_lettered(platform: Platform) -> Check:
    counts = await event_counts(platform)
    problem = None
    if counts["dead letters"]:
        problem = f"{counts['dead letters']} messages dead-lettered: " + "; ".join(await dead_letter_kinds(platform))
    return check("no message dead-lettered (every consumer applied what it read)", problem, "0 in every service")
