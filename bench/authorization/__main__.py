"""`python -m bench.authorization [--requests N] [--cards N] [--concurrency N]` (`make bench-authorization`)

Authorization decisions over HTTP (`POST /authorizations`) against a running ledger and
authorization: without URLs it starts both as subprocesses on the embedded stack (PostgreSQL from
`CLEARWAY_DATABASE_URL` when set), as `make run` does. It reports decisions per second and p50/p99
decision latency with `--concurrency` in flight, then one at a time; where a one-at-a-time decision's
milliseconds go (each ledger call of the HTTP path timed on its own); and checks every decision
against the ledger (approved: an inflight hold of its amount; declined: none; per card, inflight
equals the approved total within the limit and fees payable the fees answered). Writes
bench-results/authorization.json; exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.authorization import breakdown, load
from bench.ledger.stats import ScenarioResult

SEQUENTIAL_REQUESTS = 200
BREAKDOWN_CALLS = 200


def _scenario(name: str, drive: load.Drive) -> dict[str, Any]:
    latencies = [outcome.latency_ms for outcome in drive.outcomes]
    row = ScenarioResult.from_latencies(
        path=name, load="cards", transfers=len(latencies), seconds=drive.seconds, latencies_ms=latencies, checked=True
    ).as_dict()
    return {
        "scenario": name,
        "requests": row["transfers"],
        "seconds": row["seconds"],
        "decisions_per_second": row["transfers_per_second"],
        "latency_ms_p50": row["latency_ms_p50"],
        "latency_ms_p99": row["latency_ms_p99"],
        "latency_ms_max": row["latency_ms_max"],
        "decisions": dict(drive.decisions),
        "failures": drive.failures,
    }


async def run(
    authorization_url: str, ledger_url: str, api_key: str, requests: int, cards_count: int, concurrency: int
) -> dict[str, Any]:
    run_id = secrets.token_hex(3)
    headers = {"X-API-Key": api_key}
    async with (
        httpx.AsyncClient(base_url=authorization_url, headers=headers, timeout=60) as authorization,
        httpx.AsyncClient(base_url=ledger_url, headers=headers, timeout=60) as ledger,
    ):
        per_card, limits = load.amounts_per_card(cards_count, requests, seed=7)
        cards = await load.open_cards(authorization, ledger, limits)
        bodies = load.requests_for(cards, per_card, run_id)
        concurrent = await load.drive(authorization_url, api_key, bodies, concurrency)
        print(json.dumps(_scenario("concurrent", concurrent)), flush=True)

        # One at a time, on fresh cards with room: latency without queueing, and its breakdown.
        quiet_per_card, _ = load.amounts_per_card(1, SEQUENTIAL_REQUESTS, seed=8)
        quiet = await load.open_cards(authorization, ledger, [10 * sum(quiet_per_card[0])] * 2)
        sequential = await load.drive(
            authorization_url, api_key, load.requests_for(quiet[:1], quiet_per_card, run_id + "s"), 1
        )
        print(json.dumps(_scenario("sequential", sequential)), flush=True)
        ledger_ms = await breakdown.ledger_calls(ledger_url, api_key, quiet[1], BREAKDOWN_CALLS, run_id)
        decision = breakdown.decision_ms([outcome.latency_ms for outcome in sequential.outcomes])
        # The path waits once: the hold and its fee posted atomically, answered with the balance.
        ledger_p50 = ledger_ms["hold_and_fee_atomic"]["p50"]
        where = {
            "decision_ms": decision,
            "ledger_calls_ms": ledger_ms,
            "ledger_calls_per_approval": 1,
            "ledger_waits_per_approval": 1,
            "ledger_wait_p50_ms": round(ledger_p50, 2),
            "authorization_own_p50_ms": round(decision["p50"] - ledger_p50, 2),
        }
        print(json.dumps(where), flush=True)

        verified = await load.verify(ledger, cards + quiet[:1], concurrent.outcomes + sequential.outcomes)
        print(json.dumps(verified), flush=True)
    return {
        "scenarios": [_scenario("concurrent", concurrent), _scenario("sequential", sequential)],
        "concurrency": concurrency,
        "cards": cards_count,
        "where_the_milliseconds_go": where,
        "ledger_check": verified,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.authorization")
    parser.add_argument("--authorization-url")
    parser.add_argument("--ledger-url")
    parser.add_argument("--api-key")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--cards", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP requests in flight")
    parser.add_argument("--out", default="bench-results/authorization.json")
    arguments = parser.parse_args(argv)
    owned = None
    if arguments.authorization_url:
        authorization_url, ledger_url, api_key = arguments.authorization_url, arguments.ledger_url, arguments.api_key
    else:
        from clearway.devstack.stack import start_platform

        server = os.environ.get("CLEARWAY_DATABASE_URL")
        owned = start_platform(
            services=["ledger", "authorization"],
            postgres_server_url=server or None,
            test_mode=False,
            stream_logs=False,
            extra_env={"CLEARWAY_LEDGER_LOG_LEVEL": "WARNING", "CLEARWAY_AUTHORIZATION_LOG_LEVEL": "WARNING"},
        )
        authorization_url, ledger_url, api_key = owned.url("authorization"), owned.url("ledger"), owned.api_key
    try:
        result = asyncio.run(
            run(authorization_url, ledger_url, api_key, arguments.requests, arguments.cards, arguments.concurrency)
        )
    finally:
        if owned is not None:
            owned.stop()
    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "result": result,
    }
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0 if result["ledger_check"]["ok"] and not any(s["failures"] for s in result["scenarios"]) else 1


if __name__ == "__main__":
    sys.exit(main())
