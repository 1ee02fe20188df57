"""The sandbox control API over HTTP, as e2e tests and demos drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clearway.platform.errors import install_error_handlers
from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import SandboxProvider, StkPushRequest, sandbox_control_router


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    bodies: list[bytes] = []

    async def deliver(body: bytes) -> None:
        bodies.append(body)

    return SandboxProvider(deliver, clock=clock)


@pytest.fixture
async def http(sandbox: SandboxProvider) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(sandbox_control_router(sandbox))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def push(phone: str) -> StkPushRequest:
    return StkPushRequest.create(phone=phone, amount_minor=10_000, currency="KES", account_reference="T1")


async def test_scenarios_by_phone_and_for_the_next_request(http: httpx.AsyncClient, sandbox: SandboxProvider) -> None:
    by_phone = await http.post(
        "/sandbox/mobile-money/scenarios", json={"phone": "0712 345 678", "outcome": "decline", "delay_ms": 250}
    )
    assert by_phone.status_code == 201
    assert by_phone.json() == {"phone": "+254712345678", "outcome": "decline", "delay_ms": 250, "applies_to": "phone"}
    next_one = await http.post("/sandbox/mobile-money/scenarios", json={"outcome": "lost_callback"})
    assert next_one.json()["applies_to"] == "next_request"

    await sandbox.initiate_stk_push(push("+254722000111"))
    await sandbox.initiate_stk_push(push("+254712345678"))

    listed = await http.get("/sandbox/mobile-money/requests")
    assert listed.status_code == 200
    data = listed.json()["data"]
    assert [(row["phone_masked"], row["outcome"]) for row in data] == [
        ("+254******678", "decline"),
        ("+254******111", "lost_callback"),
    ]
    assert data[1]["callback_due"] is False and data[0]["callback_due"] is True
    only_alice = await http.get("/sandbox/mobile-money/requests", params={"phone": "0712345678", "limit": 5})
    assert [row["outcome"] for row in only_alice.json()["data"]] == ["decline"]
    assert only_alice.json()["has_more"] is False


async def test_invalid_phone_is_a_problem_response(http: httpx.AsyncClient) -> None:
    response = await http.post("/sandbox/mobile-money/scenarios", json={"phone": "12345", "outcome": "approve"})
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_PHONE_NUMBER"
    bad_outcome = await http.post("/sandbox/mobile-money/scenarios", json={"outcome": "maybe"})
    assert bad_outcome.status_code in (400, 422)


async def test_deliveries_and_redelivery_over_http(
    http: httpx.AsyncClient, sandbox: SandboxProvider, clock: ManualClock
) -> None:
    accepted = await sandbox.initiate_stk_push(push("+254712345678"))
    assert (await http.post("/sandbox/mobile-money/deliveries")).json() == {"delivered": 1}
    again = await http.post(f"/sandbox/mobile-money/requests/{accepted.checkout_request_id}/redeliver")
    assert again.json() == {"checkout_request_id": accepted.checkout_request_id, "delivered": True}
    missing = await http.post("/sandbox/mobile-money/requests/ws_CO_nope/redeliver")
    assert missing.status_code == 404
    assert (await http.delete("/sandbox/mobile-money/scenarios")).status_code == 204
