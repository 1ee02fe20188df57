"""The sandbox control API with payouts: b2c rows, redelivery and reversal over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clearway.platform.errors import install_error_handlers
from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import B2cPaymentRequest, SandboxProvider, StkPushRequest, sandbox_control_router

PREFIX = "/sandbox/mobile-money"


class Bodies:
    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.timeouts: list[dict[str, Any]] = []

    async def result(self, body: bytes) -> None:
        self.results.append(json.loads(body)["Result"])

    async def timeout(self, body: bytes) -> None:
        self.timeouts.append(json.loads(body)["Result"])


@pytest.fixture
def bodies() -> Bodies:
    return Bodies()


@pytest.fixture
def sandbox(clock: ManualClock, bodies: Bodies) -> SandboxProvider:
    async def push_sink(_body: bytes) -> None:
        return None

    provider = SandboxProvider(push_sink, clock=clock)
    provider.set_b2c_deliver(bodies.result, bodies.timeout)
    return provider


@pytest.fixture
async def http(sandbox: SandboxProvider) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(sandbox_control_router(sandbox))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def payout(ocid: str, phone: str = "+254712345678") -> B2cPaymentRequest:
    return B2cPaymentRequest(phone=phone, amount_minor=20_000, currency="KES", originator_conversation_id=ocid)


async def test_requests_list_pushes_and_payouts_with_their_kind(
    http: httpx.AsyncClient, sandbox: SandboxProvider
) -> None:
    await http.post(f"{PREFIX}/scenarios", json={"phone": "0712345678", "outcome": "timeout", "delay_ms": 100})
    push = await sandbox.initiate_stk_push(
        StkPushRequest.create(phone="0722000111", amount_minor=10_000, currency="KES", account_reference="T1")
    )
    accepted = await sandbox.pay(payout("wd_1"))

    data = (await http.get(f"{PREFIX}/requests")).json()["data"]
    assert [(row["kind"], row["id"]) for row in data] == [
        ("b2c", accepted.conversation_id),
        ("c2b", push.checkout_request_id),
    ]
    b2c, c2b = data
    assert b2c["checkout_request_id"] == accepted.conversation_id
    assert (b2c["originator_conversation_id"], b2c["merchant_request_id"]) == ("wd_1", "wd_1")
    assert (b2c["outcome"], b2c["phone_masked"], b2c["reversed_at"]) == ("timeout", "+254******678", None)
    assert c2b["originator_conversation_id"] is None
    only_payouts = (await http.get(f"{PREFIX}/requests", params={"kind": "b2c"})).json()["data"]
    assert [row["id"] for row in only_payouts] == [accepted.conversation_id]


async def test_timeout_notice_then_redelivery_over_http(
    http: httpx.AsyncClient, sandbox: SandboxProvider, bodies: Bodies, clock: ManualClock
) -> None:
    await http.post(f"{PREFIX}/scenarios", json={"outcome": "timeout"})
    await sandbox.pay(payout("wd_1"))
    assert (await http.post(f"{PREFIX}/deliveries")).json() == {"delivered": 1}
    assert [notice["OriginatorConversationID"] for notice in bodies.timeouts] == ["wd_1"]
    again = await http.post(f"{PREFIX}/requests/wd_1/redeliver")
    assert again.json() == {"checkout_request_id": "wd_1", "delivered": True}
    assert len(bodies.timeouts) == 2 and bodies.results == []


async def test_redeliver_and_reverse_a_payout_over_http(
    http: httpx.AsyncClient, sandbox: SandboxProvider, bodies: Bodies
) -> None:
    accepted = await sandbox.pay(payout("wd_1"))
    await http.post(f"{PREFIX}/deliveries")
    redelivered = await http.post(f"{PREFIX}/requests/{accepted.conversation_id}/redeliver")
    assert redelivered.json()["delivered"] is True
    assert bodies.results[0] == bodies.results[1]

    reversed_ = await http.post(f"{PREFIX}/requests/{accepted.conversation_id}/reverse")
    assert reversed_.status_code == 200
    assert reversed_.json() == {"id": accepted.conversation_id, "originator_conversation_id": "wd_1", "delivered": True}
    reversal = bodies.results[-1]
    assert reversal["OriginatorConversationID"] == "wd_1"
    parameters = {item["Key"]: item.get("Value") for item in reversal["ResultParameters"]["ResultParameter"]}
    assert parameters["OriginalTransactionID"] == bodies.results[0]["TransactionID"]
    row = (await http.get(f"{PREFIX}/requests")).json()["data"][0]
    assert row["reversed_at"] is not None and row["callbacks_delivered"] == 3


async def test_reverse_refuses_what_cannot_be_reversed(http: httpx.AsyncClient, sandbox: SandboxProvider) -> None:
    push = await sandbox.initiate_stk_push(
        StkPushRequest.create(phone="0722000111", amount_minor=10_000, currency="KES", account_reference="T1")
    )
    await http.post(f"{PREFIX}/scenarios", json={"outcome": "decline"})
    await sandbox.pay(payout("wd_declined"))
    assert (await http.post(f"{PREFIX}/requests/nope/reverse")).status_code == 404
    for request_id in (push.checkout_request_id, "wd_declined"):
        refused = await http.post(f"{PREFIX}/requests/{request_id}/reverse")
        assert refused.status_code == 409
        assert refused.json()["code"] == "SANDBOX_NOT_REVERSIBLE"
