"""The three write paths under load: HTTP one transfer per request, HTTP bulk, Kafka commands."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import aiohttp
import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from bench.ledger.scenarios import AMOUNT_MINOR, CURRENCY, Load
from bench.ledger.stats import ScenarioResult
from clearway.contracts import cloudevents
from clearway.contracts.cloudevents import EventAttributes
from clearway.platform.kafka import KafkaPublisher
from clearway.platform.outbox import OutboxMessage

COMMAND_TOPIC = "ledger.transaction.requested"
APPLIED_TOPIC = "ledger.transaction.applied"
BULK_SIZE = 1000
WAIT_S_MAX = 300


def transfer_body(reference: str, source: str, destination: str) -> dict[str, object]:
    return {
        "precise_amount": AMOUNT_MINOR,
        "precision": 100,
        "currency": CURRENCY,
        "reference": reference,
        "source": source,
        "destination": destination,
    }


def expected_moves(pairs: list[tuple[str, str]]) -> Counter[str]:
    moves: Counter[str] = Counter()
    for source, destination in pairs:
        moves[source] -= AMOUNT_MINOR
        moves[destination] += AMOUNT_MINOR
    return moves


_COMMAND_ATTRIBUTES = cloudevents.attribute_strings(
    EventAttributes(id="template", source="clearway.bench", type=COMMAND_TOPIC, time=datetime.now(UTC), subject="-")
)


def command_message(reference: str, event_id: str, source: str, destination: str) -> OutboxMessage:
    """One `ledger.transaction.requested` command of AMOUNT_MINOR, keyed by its source balance, for the
    platform's `KafkaPublisher` (batches per partition): a lean load generator, as pgledger's is, since
    it shares these two cores with the ledger under test. Headers come from the codec's fast path."""
    strings = {
        **_COMMAND_ATTRIBUTES,
        "id": event_id,
        "subject": reference,
        "time": cloudevents.format_time(datetime.now(UTC)),
    }
    payload = {
        "reference": reference,
        "amount_minor": AMOUNT_MINOR,
        "currency": CURRENCY,
        "source": source,
        "destination": destination,
    }
    return OutboxMessage(
        id=0,
        event_id=event_id,
        topic=COMMAND_TOPIC,
        key=source,
        event_type=COMMAND_TOPIC,
        headers=cloudevents.headers_from_strings(strings),
        value=orjson.dumps(payload),
    )


async def snapshot(client: httpx.AsyncClient, balance_ids: set[str]) -> dict[str, int]:
    result = {}
    for balance_id in balance_ids:
        response = await client.get(f"/balances/{balance_id}")
        response.raise_for_status()
        result[balance_id] = response.json()["balance"]
    return result


def matches(before: dict[str, int], after: dict[str, int], moves: Counter[str]) -> bool:
    return all(after[balance_id] == before[balance_id] + moves[balance_id] for balance_id in before)


def _pairs(load: Load, count: int) -> list[tuple[str, str]]:
    pairs_iter = load.pairs()
    return [next(pairs_iter) for _ in range(count)]


def _deadline(phase_s: float | None) -> float:
    """When a timed phase stops sending (`perf_counter`); a counted phase has none."""
    return time.perf_counter() + phase_s if phase_s else float("inf")


async def http_single(
    client: httpx.AsyncClient,
    load: Load,
    transfers: int,
    concurrency: int,
    run_id: str,
    urls: list[str],
    phase_s: float | None = None,
) -> ScenarioResult:
    """`transfers` single-transfer requests; with `phase_s`, as many as fit in that time (up to
    `transfers`), so a phase is long enough that start-up does not dominate its figure."""
    pairs = _pairs(load, transfers)
    touched = {balance for pair in pairs for balance in pair}
    before = await snapshot(client, touched)
    latencies_ms: list[float] = []
    applied: list[tuple[str, str]] = []
    next_index = 0
    failures = 0
    # aiohttp for the load itself: its client costs far less CPU per request than httpx, and the
    # client shares these two cores with the server under test.
    session_holder: list[aiohttp.ClientSession] = []
    deadline = _deadline(phase_s)

    async def worker(url: str) -> None:
        nonlocal failures, next_index
        while next_index < transfers and time.perf_counter() < deadline:
            index, next_index = next_index, next_index + 1
            source, destination = pairs[index]
            started = time.perf_counter()
            async with session_holder[0].post(
                f"{url}/transactions", json=transfer_body(f"bench-{run_id}-{index}", source, destination)
            ) as response:
                document = await response.json(content_type=None)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status != 201 or document["status"] != "APPLIED":
                failures += 1
            else:
                applied.append((source, destination))

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=dict(client.headers), connector=connector) as session:
        session_holder.append(session)
        started = time.perf_counter()
        # Each worker keeps to one instance, as a client behind a connection-pinning balancer would.
        await asyncio.gather(*(worker(urls[number % len(urls)]) for number in range(concurrency)))
        seconds = time.perf_counter() - started
    after = await snapshot(client, touched)
    return ScenarioResult.from_latencies(
        path="http_single",
        load=load.name,
        transfers=next_index,
        seconds=seconds,
        latencies_ms=latencies_ms,
        checked=failures == 0 and matches(before, after, expected_moves(applied)),
        notes=f"concurrency {concurrency}, instances {len(urls)}, failures {failures}",
    )


async def http_bulk(
    client: httpx.AsyncClient,
    load: Load,
    transfers: int,
    concurrency: int,
    run_id: str,
    phase_s: float | None = None,
) -> ScenarioResult:
    """Bulk requests of BULK_SIZE; with `phase_s`, as many as fit in that time (up to `transfers`)."""
    pairs = _pairs(load, transfers)
    touched = {balance for pair in pairs for balance in pair}
    before = await snapshot(client, touched)
    chunks = [list(range(start, min(start + BULK_SIZE, transfers))) for start in range(0, transfers, BULK_SIZE)]
    latencies_ms: list[float] = []
    sent: list[int] = []
    failures = 0
    deadline = _deadline(phase_s)

    async def sender() -> None:
        nonlocal failures
        while chunks and time.perf_counter() < deadline:
            chunk = chunks.pop(0)
            body = {
                "atomic": False,
                "transactions": [transfer_body(f"bench-bulk-{run_id}-{index}", *pairs[index]) for index in chunk],
            }
            started = time.perf_counter()
            response = await client.post("/transactions/bulk", json=body, timeout=120)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            sent.extend(chunk)
            if response.status_code != 201 or response.json()["failed_count"]:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    after = await snapshot(client, touched)
    return ScenarioResult.from_latencies(
        path="http_bulk",
        load=load.name,
        transfers=len(sent),
        seconds=seconds,
        latencies_ms=latencies_ms,
        checked=failures == 0 and matches(before, after, expected_moves([pairs[index] for index in sent])),
        notes=f"{BULK_SIZE} per request, {concurrency} requests in flight; latency is per bulk request",
    )


async def kafka_commands(
    client: httpx.AsyncClient, bootstrap_servers: str, load: Load, transfers: int, run_id: str
) -> ScenarioResult:
    pairs = _pairs(load, transfers)
    touched = {balance for pair in pairs for balance in pair}
    before = await snapshot(client, touched)
    consumer = AIOKafkaConsumer(
        APPLIED_TOPIC,
        bootstrap_servers=bootstrap_servers,
        group_id=f"bench-{run_id}-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    publisher = KafkaPublisher(bootstrap_servers, client_id="clearway-bench")
    await publisher.start()
    sent_at: dict[str, float] = {}
    started = time.time()
    try:
        commands = []
        for index, (source, destination) in enumerate(pairs):
            reference = f"bench-kafka-{run_id}-{index}"
            sent_at[reference] = time.time()
            commands.append(command_message(reference, f"cmd-{run_id}-{index}", source, destination))
        await publisher.send_batch(commands)
        latencies_ms: list[float] = []
        last_applied = started
        first_applied = float("inf")
        deadline = time.monotonic() + WAIT_S_MAX
        while sent_at and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    event = orjson.loads(record.value)
                    sent = sent_at.pop(event.get("reference", ""), None)
                    if sent is None:
                        continue
                    applied = datetime.fromisoformat(event["occurred_at"]).timestamp()
                    latencies_ms.append(max(0.0, (applied - sent) * 1000))
                    last_applied = max(last_applied, applied)
                    first_applied = min(first_applied, applied)
    finally:
        await publisher.stop()
        await consumer.stop()
    seconds = last_applied - started
    after = await snapshot(client, touched)
    return ScenarioResult.from_latencies(
        path="kafka",
        load=load.name,
        transfers=transfers,
        seconds=seconds,
        latencies_ms=latencies_ms or [0.0],
        checked=not sent_at and matches(before, after, expected_moves(pairs)),
        notes=(
            f"missing {len(sent_at)}; seconds = first command produced -> last applied (the Python producer is "
            f"inside that window); apply rate alone {transfers / max(last_applied - first_applied, 1e-9):.0f}/s; "
            "latency = command produced -> transaction applied"
        ),
    )
