"""Admission control: 503 OVERLOADED at capacity and 429 RATE_LIMITED over a key's rate, each with
Retry-After, both recovering by themselves; probes always admitted (issue 14 §2-3)."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI

from clearway.platform.admission import AdmissionMiddleware, KeyRateLimiter
from clearway.platform.auth import ApiKeyEntry, Authenticator, hash_api_key

LIMITED_KEY, FREE_KEY = "limited-key-0123456789", "free-key-0123456789ab"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def authenticator() -> Authenticator:
    return Authenticator(
        [
            ApiKeyEntry(name="partner", key_sha256=hash_api_key(LIMITED_KEY), roles=["operator"], rate_limit_per_s=2),
            ApiKeyEntry(name="platform", key_sha256=hash_api_key(FREE_KEY), roles=["service"]),
        ]
    )


def app_with(middleware_options: dict[str, object], gate: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI()

    @app.get("/work")
    async def work() -> dict[str, str]:
        if gate is not None:
            await gate.wait()
        return {"done": "yes"}

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    app.add_middleware(AdmissionMiddleware, authenticator=authenticator(), **middleware_options)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait_and_refills() -> None:
    clock = Clock()
    limiter = KeyRateLimiter(clock=clock)
    assert [limiter.take("k", 2.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]  # 2 s of burst at 2/s
    assert limiter.take("k", 2.0) == 0.5
    clock.now += 0.5
    assert limiter.take("k", 2.0) == 0.0
    assert limiter.take("other", 2.0) == 0.0  # per key


async def test_over_its_rate_a_key_gets_429_with_retry_after_and_other_keys_do_not() -> None:
    async with client(app_with({"inflight_max": None, "rate_limit_per_key_per_s": None})) as http:
        answers = [(await http.get("/work", headers={"X-API-Key": LIMITED_KEY})).status_code for _ in range(6)]
        assert answers[:4] == [200] * 4 and answers[4:] == [429, 429]
        refused = await http.get("/work", headers={"X-API-Key": LIMITED_KEY})
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "RATE_LIMITED" and int(refused.headers["Retry-After"]) >= 1
        free = [(await http.get("/work", headers={"X-API-Key": FREE_KEY})).status_code for _ in range(10)]
        assert free == [200] * 10
        assert (await http.get("/health/ready", headers={"X-API-Key": LIMITED_KEY})).status_code == 200


async def test_a_service_default_rate_applies_to_keys_without_their_own() -> None:
    async with client(app_with({"inflight_max": None, "rate_limit_per_key_per_s": 1.0})) as http:
        answers = [(await http.get("/work", headers={"X-API-Key": FREE_KEY})).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        assert (await http.get("/work")).status_code == 200  # no credentials: the route decides


async def test_at_capacity_requests_get_503_overloaded_then_it_recovers_without_restart() -> None:
    gate = asyncio.Event()
    async with client(app_with({"inflight_max": 2, "rate_limit_per_key_per_s": None}, gate)) as http:
        held = [asyncio.create_task(http.get("/work")) for _ in range(2)]
        await asyncio.sleep(0.05)
        refused = await http.get("/work")
        assert refused.status_code == 503, refused.text
        assert json.loads(refused.text)["code"] == "OVERLOADED" and refused.headers["Retry-After"] == "1"
        assert (await http.get("/health/ready")).status_code == 200  # probes still answered
        gate.set()
        assert [task.status_code for task in await asyncio.gather(*held)] == [200, 200]
        assert (await http.get("/work")).status_code == 200
