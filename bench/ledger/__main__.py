"""`python -m bench.ledger [--ledger-url URL --api-key KEY --kafka BOOTSTRAP] [--scale N]`

Without a ledger URL it starts its own: embedded PostgreSQL (durable settings) and broker, and the
ledger service as a subprocess, exactly as `make run` does.
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

from bench.ledger import drivers
from bench.ledger.scenarios import prepare_load
from bench.ledger.settle import settle_ledger_database
from bench.ledger.soak import kafka_soak

LOADS = ("uniform_50", "hot_1")
PATHS = ("http_single", "http_bulk", "kafka")
LATENCY_CONCURRENCY = 8
# A timed phase sends at most this many times its counted size (what the sources are funded for).
TIMED_CEILING = 20


async def run(
    ledger_urls: list[str],
    api_key: str,
    bootstrap: str,
    scale: float,
    concurrency: int,
    phase_s: float,
    loads: tuple[str, ...] = LOADS,
    paths: tuple[str, ...] = PATHS,
    database_url: str | None = None,
) -> list[dict[str, Any]]:
    """With `phase_s`, each HTTP phase runs that long (the counts are its ceiling) and the Kafka
    phase gets as many commands as the bulk phase posted in that time, so no phase is so short that
    start-up (a consumer group joining, pools filling) makes its figure; `phase_s` 0: the counts.
    `loads` and `paths` pick a subset (to profile one phase at a time). With `database_url` (the
    ledger's), every phase starts on a settled database (`settle.py`), as pgledger's phases do."""

    async def settled() -> None:
        if database_url is not None:
            print(json.dumps({"settled": await settle_ledger_database(database_url)}), flush=True)

    ledger_url = ledger_urls[0]
    results = []
    timed = phase_s or None
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(
        base_url=ledger_url, headers={"X-Blnk-Key": api_key}, limits=limits, timeout=60
    ) as client:
        for load_name in loads:
            run_id = secrets.token_hex(4)
            ceiling = TIMED_CEILING if timed else 1
            single_count = int(2_000 * scale * ceiling)
            bulk_count = kafka_count = int(10_000 * scale * ceiling)
            load = await prepare_load(client, load_name, 2 * single_count + bulk_count + kafka_count, run_id)
            # Throughput with many requests in flight, then latency with few (queueing dominates p99
            # once the server is saturated, so one concurrency cannot show both).
            phases = []
            if "http_single" in paths:
                await settled()
                phases.append(
                    await drivers.http_single(client, load, single_count, concurrency, run_id, ledger_urls, timed)
                )
                await settled()
                phases.append(
                    await drivers.http_single(
                        client, load, single_count, LATENCY_CONCURRENCY, f"{run_id}-lat", ledger_urls, timed
                    )
                )
            if "http_bulk" in paths or "kafka" in paths:
                await settled()
                bulk = await drivers.http_bulk(client, load, bulk_count, 2, run_id, timed)
                if timed:
                    kafka_count = max(int(10_000 * scale), int(bulk.transfers / max(bulk.seconds, 1e-9) * phase_s))
                if "http_bulk" in paths:
                    phases.append(bulk)
            if "kafka" in paths:
                await settled()
                phases.append(await drivers.kafka_commands(client, bootstrap, load, kafka_count, run_id))
            for result in phases:
                print(json.dumps(result.as_dict()), flush=True)
                results.append(result.as_dict())
    return results


async def soak(
    ledger_url: str, api_key: str, bootstrap: str, rate_per_s: float, seconds: float, ledger_pids: list[int]
) -> dict[str, Any]:
    """Kafka commands at `rate_per_s` for `seconds` on the uniform load, the ledger's RSS sampled."""
    run_id = secrets.token_hex(4)
    async with httpx.AsyncClient(base_url=ledger_url, headers={"X-Blnk-Key": api_key}, timeout=60) as client:
        load = await prepare_load(client, LOADS[0], int(rate_per_s * seconds) + 1, run_id)
        return await kafka_soak(
            client, bootstrap, load, rate_per_s=rate_per_s, seconds=seconds, ledger_pids=ledger_pids, run_id=run_id
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ledger")
    parser.add_argument("--ledger-url")
    parser.add_argument("--api-key")
    parser.add_argument("--kafka")
    parser.add_argument(
        "--database-url", help="with --ledger-url: the ledger's database, to settle it before each phase"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies transfer counts (1 = 22k per load)")
    parser.add_argument(
        "--phase-s",
        type=float,
        default=15.0,
        help="seconds each phase runs (issue 13: long enough for a stable figure); 0 = by count only",
    )
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP requests in flight")
    parser.add_argument("--out", default="bench-results/ledger.json")
    parser.add_argument(
        "--instances", type=int, default=1, help="ledger processes sharing the database and consumer group"
    )
    parser.add_argument("--loads", default=",".join(LOADS), help="comma-separated subset of " + ",".join(LOADS))
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help="comma-separated subset of " + ",".join(PATHS) + " (kafka sizes itself by a bulk phase, which runs too)",
    )
    parser.add_argument(
        "--soak-s",
        type=float,
        default=0.0,
        help="instead of the phases: a memory soak of this many seconds (Kafka commands at --soak-rate, RSS sampled)",
    )
    parser.add_argument("--soak-rate", type=float, default=1000.0, help="Kafka commands per second during a soak")
    parser.add_argument("--ledger-pid", type=int, action="append", help="with --ledger-url: the process(es) to watch")
    arguments = parser.parse_args(argv)
    loads, paths = tuple(arguments.loads.split(",")), tuple(arguments.paths.split(","))
    assert set(loads) <= set(LOADS) and set(paths) <= set(PATHS), (loads, paths)
    owned = None
    database_url = arguments.database_url
    if arguments.ledger_url:
        ledger_urls, api_key, bootstrap = arguments.ledger_url.split(","), arguments.api_key, arguments.kafka
    else:
        from clearway.devstack.stack import start_platform

        owned = start_platform(
            services=["ledger"], test_mode=False, stream_logs=False, extra_env={"CLEARWAY_LEDGER_LOG_LEVEL": "WARNING"}
        )
        ledger_urls = [owned.url("ledger")]
        ledger_urls += [owned.add_instance("ledger") for _ in range(arguments.instances - 1)]
        api_key, bootstrap = owned.api_key, owned.kafka_bootstrap_servers
        database_url = owned.database_url("ledger")
    if arguments.soak_s:
        pids = owned.pids() if owned is not None else (arguments.ledger_pid or [])
        assert pids, "a soak watches the ledger's RSS: give --ledger-pid with --ledger-url"
        try:
            result = asyncio.run(soak(ledger_urls[0], api_key, bootstrap, arguments.soak_rate, arguments.soak_s, pids))
        finally:
            if owned is not None:
                owned.stop()
        print(json.dumps(result), flush=True)
        out = Path(arguments.out).with_name("ledger-soak.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        print(f"wrote {out}")
        return 0 if result["balances_checked"] else 1
    try:
        results = asyncio.run(
            run(
                ledger_urls,
                api_key,
                bootstrap,
                arguments.scale,
                arguments.concurrency,
                arguments.phase_s,
                loads,
                paths,
                database_url,
            )
        )
    finally:
        if owned is not None:
            owned.stop()
    report = {
        "ledger_instances": len(ledger_urls),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "results": results,
    }
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0 if all(result["balances_checked"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
