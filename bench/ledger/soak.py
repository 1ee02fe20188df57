"""A memory soak: Kafka transfer commands at a steady rate for minutes, the ledger's RSS sampled.

Issue 13 asks for memory flat over a 10-minute soak at the Kafka rate: a leak (a cache without a
bound, futures nobody awaits, a growing outbox) shows as RSS that keeps rising while the load is
steady. The soak paces the producer (`rate_per_s`, in ticks of TICK_S), counts the
`ledger.transaction.applied` events of its own commands as they arrive, reads the ledger process's
RSS from /proc at the start, every SAMPLE_S and at the end, and checks the balances afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from bench.ledger.drivers import APPLIED_TOPIC, command_message, expected_moves, matches, snapshot
from bench.ledger.scenarios import Load
from bench.ledger.stats import percentile
from clearway.platform.kafka import KafkaPublisher

TICK_S = 0.1
SAMPLE_S = 30.0
DRAIN_S_MAX = 300.0


def rss_kib(pid: int) -> int:
    """The resident set of `pid` in KiB (Linux `/proc/<pid>/status`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for pid {pid}")


async def kafka_soak(
    client: httpx.AsyncClient,
    bootstrap_servers: str,
    load: Load,
    *,
    rate_per_s: float,
    seconds: float,
    ledger_pids: list[int],
    run_id: str,
) -> dict[str, Any]:
    assert rate_per_s > 0 and seconds > 0 and ledger_pids
    per_tick = max(1, round(rate_per_s * TICK_S))
    pairs_iter = load.pairs()
    touched = set(load.sources) | set(load.destinations)
    before = await snapshot(client, touched)
    consumer = AIOKafkaConsumer(
        APPLIED_TOPIC,
        bootstrap_servers=bootstrap_servers,
        group_id=f"bench-soak-{run_id}-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    publisher = KafkaPublisher(bootstrap_servers, client_id="clearway-bench")
    await publisher.start()
    prefix = f"bench-soak-{run_id}-"
    sent_at: dict[str, float] = {}
    pairs: list[tuple[str, str]] = []
    latencies_ms: list[float] = []
    rss: list[dict[str, Any]] = []
    stop_reading = asyncio.Event()
    drained = asyncio.Event()  # every command sent has been applied (checked once sending is over)
    sending = True

    def sample(elapsed_s: float) -> None:
        rss.append({"at_s": round(elapsed_s, 1), "rss_kib": [rss_kib(pid) for pid in ledger_pids]})

    async def read_applied() -> None:
        while not stop_reading.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    event = orjson.loads(record.value)
                    reference = event.get("reference", "")
                    if not reference.startswith(prefix):
                        continue
                    sent = sent_at.pop(reference, None)
                    if sent is not None:
                        applied = datetime.fromisoformat(event["occurred_at"]).timestamp()
                        latencies_ms.append(max(0.0, (applied - sent) * 1000))
            if not sending and not sent_at:
                drained.set()

    reader = asyncio.create_task(read_applied())
    started = time.monotonic()
    next_sample = 0.0
    index = 0
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            if elapsed >= next_sample:
                sample(elapsed)
                next_sample += SAMPLE_S
            tick = []
            for _ in range(per_tick):
                source, destination = next(pairs_iter)
                reference = f"{prefix}{index}"
                index += 1
                sent_at[reference] = time.time()
                pairs.append((source, destination))
                tick.append(command_message(reference, f"cmd-{run_id}-soak-{index}", source, destination))
            await publisher.send_batch(tick)
            # Pace by the clock, not by the sleep: a slow tick is made up by the next ones.
            await asyncio.sleep(max(0.0, started + (index / per_tick) * TICK_S - time.monotonic()))
        sample(time.monotonic() - started)
        sending = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drained.wait(), DRAIN_S_MAX)
        sample(time.monotonic() - started)
    finally:
        stop_reading.set()
        await reader
        await publisher.stop()
        await consumer.stop()
    after = await snapshot(client, touched)
    ordered = sorted(latencies_ms) or [0.0]
    # "Start" is after the first SAMPLE_S of load (pools filled, code warm); the cold figure is kept too.
    first, last = (rss[1] if len(rss) > 2 else rss[0])["rss_kib"], rss[-1]["rss_kib"]
    return {
        "path": "kafka_soak",
        "load": load.name,
        "rate_per_s_target": rate_per_s,
        "seconds": seconds,
        "sent": index,
        "sent_per_s": round(index / seconds, 1),
        "missing": len(sent_at),
        "latency_ms_p50": round(percentile(ordered, 0.50), 2),
        "latency_ms_p99": round(percentile(ordered, 0.99), 2),
        "rss_kib_cold": rss[0]["rss_kib"],
        "rss_kib_start": first,
        "rss_kib_end": last,
        "rss_kib_growth": [end - start for start, end in zip(first, last, strict=True)],
        "rss_samples": rss,
        "balances_checked": not sent_at and matches(before, after, expected_moves(pairs)),
    }
