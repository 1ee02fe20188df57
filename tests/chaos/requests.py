"""How the chaos workload sends one request: as a careful client, until it is acknowledged.

HTTP requests carry one Idempotency-Key on every attempt; Kafka records keep one event id (or one
command reference) on every attempt. Outages are waited out and counted; any other answer is a
finding, unless the caller says what it means (an earlier attempt took effect, or it is too early).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from clearway.devstack.testing import publish_as_processor

RETRY_PAUSE_S = 0.2
WAIT_PAUSE_S = 1.0  # before asking again what was too early
HTTP_TIMEOUT_S = 10.0
# 409: the same key is still in flight; 502/503/504: a dependency or the database is down.
ANSWERS_TO_WAIT_OUT = frozenset({409, 502, 503, 504})
KAFKA_SOURCE = "urn:clearway:chaos"

# What a caller makes of an answer that is neither a 2xx nor an outage: "done" (an earlier attempt
# took effect: acknowledged), "wait" (documented, too early: retried later under a new
# Idempotency-Key, since the first answer is final for its key), None (a finding).
Verdict = Literal["done", "wait"] | None
Judge = Callable[[httpx.Response], Verdict]


@dataclass
class Tally:
    """What a client sent and what it was told, per kind of request."""

    requests: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    # Answers that are neither an acknowledgement nor a documented outage (a 500, say): findings.
    unexpected: list[str] = field(default_factory=list)


def problem_code(answer: httpx.Response) -> str:
    if answer.headers.get("content-type") != "application/problem+json":
        return ""
    body = answer.json()
    return str(body.get("code", "")) if isinstance(body, dict) else ""


async def send_until_acknowledged(
    client: httpx.AsyncClient,
    path: str,
    body: Mapping[str, Any] | None,
    *,
    key: str,
    kind: str,
    tally: Tally,
    deadline_s: float,
    judge: Judge | None = None,
) -> httpx.Response:
    """POST with one Idempotency-Key until a 2xx (or an answer `judge` calls "done")."""
    deadline = time.monotonic() + deadline_s
    attempt_key, waits = key, 0
    while time.monotonic() < deadline:
        tally.requests[kind] += 1
        try:
            answer = await client.post(path, json=body, headers={"Idempotency-Key": attempt_key})
        except httpx.TransportError:
            tally.answers[f"{kind} connection error"] += 1
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        tally.answers[f"{kind} {answer.status_code}"] += 1
        verdict = judge(answer) if judge is not None and answer.status_code >= 300 else None
        if answer.status_code < 300 or verdict == "done":
            tally.acknowledged[kind] += 1
            return answer
        problem = answer.headers.get("content-type") == "application/problem+json"
        if verdict == "wait":
            waits += 1
            attempt_key = f"{key}.{waits}"
            await asyncio.sleep(WAIT_PAUSE_S)
        elif answer.status_code not in ANSWERS_TO_WAIT_OUT or not problem:
            tally.unexpected.append(f"{kind} {key}: {answer.status_code} {answer.text[:200]}")
            print(f"  unexpected answer: {tally.unexpected[-1]}", flush=True)
        await asyncio.sleep(RETRY_PAUSE_S)
    raise AssertionError(f"{kind} {key} never acknowledged within {deadline_s:g} s")


async def post_until_acknowledged(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], *, key: str, kind: str, tally: Tally, deadline_s: float
) -> httpx.Response:
    """Outages are waited out; any other answer is noted as a finding and retried too, as a client
    would, to learn whether the retry still applies once."""
    return await send_until_acknowledged(client, path, body, key=key, kind=kind, tally=tally, deadline_s=deadline_s)


async def publish_until_acknowledged(
    producer: AIOKafkaProducer,
    topic: str,
    body: Mapping[str, Any],
    *,
    key: str,
    event_id: str,
    kind: str,
    tally: Tally,
    deadline_s: float,
) -> None:
    """Publish with the same event id until the broker acknowledges it (a processor's retry,
    deduplicated by the consumer's inbox or by the command's reference)."""
    deadline = time.monotonic() + deadline_s
    while True:
        tally.requests[kind] += 1
        try:
            await publish_as_processor(producer, topic, body, key=key, event_id=event_id, source=KAFKA_SOURCE)
        except KafkaError as error:
            tally.answers[f"{kind} {type(error).__name__}"] += 1
            assert time.monotonic() < deadline, f"{kind} {key} never acknowledged within {deadline_s:g} s"
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        tally.answers[f"{kind} acked"] += 1
        tally.acknowledged[kind] += 1
        return
