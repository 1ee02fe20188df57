from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from clearway.platform.auth import CurrentPrincipal, hash_api_key
from clearway.platform.db import create_engine, create_session_factory
from clearway.platform.errors import BusinessRuleViolation, ProblemError
from clearway.platform.http import create_http_app
from clearway.platform.idempotency import (
    RESPONSE_BODY_BYTES_MAX,
    Acquired,
    IdempotencyStore,
    InProgress,
    StoredResponse,
    delete_expired_idempotency_keys,
    idempotency_keys,
    require_idempotency_key,
)
from clearway.platform.ids import new_id
from clearway.platform.settings import ServiceSettings
from clearway.platform.tables import platform_metadata

pytestmark = pytest.mark.integration

ALICE = {"X-API-Key": "ck_alice"}
BOB = {"Authorization": "Bearer ck_bob"}


class TransferIn(BaseModel):
    amount_minor: int
    currency: str


router = APIRouter()


def calls(request: Request) -> Counter[str]:
    counter: Counter[str] = request.app.state.calls
    return counter


@router.post("/transfers", status_code=201)
async def create_transfer(
    transfer: TransferIn, principal: CurrentPrincipal, request: Request, response: Response
) -> dict[str, object]:
    calls(request)["transfers"] += 1
    transfer_id = new_id("txn")
    response.headers["Location"] = f"/transfers/{transfer_id}"
    response.headers["X-Debug"] = "not replayed"
    return {"id": transfer_id, "amount_minor": transfer.amount_minor, "created_by": principal.name}


@router.post("/slow", status_code=201)
async def slow(principal: CurrentPrincipal, request: Request) -> dict[str, str]:
    calls(request)["slow"] += 1
    await asyncio.sleep(0.5)
    return {"id": new_id("txn")}


@router.post("/flaky", status_code=201)
async def flaky(principal: CurrentPrincipal, request: Request) -> dict[str, str]:
    calls(request)["flaky"] += 1
    if calls(request)["flaky"] == 1:
        raise RuntimeError("database hiccup")
    if calls(request)["flaky"] == 2:
        raise ProblemError("provider down", status=503, code="PROVIDER_UNAVAILABLE")
    return {"id": new_id("txn")}


@router.post("/settlements", status_code=201)
async def settle(principal: CurrentPrincipal, request: Request) -> dict[str, str]:
    """Busy the first time (another step still holds the record), done the second."""
    calls(request)["settlements"] += 1
    if calls(request)["settlements"] == 1:
        raise ProblemError("still in progress", status=409, code="REVERSAL_IN_PROGRESS", headers={"Retry-After": "1"})
    return {"id": new_id("txn")}


@router.post("/refusals")
async def refuse(principal: CurrentPrincipal, request: Request) -> None:
    calls(request)["refusals"] += 1
    raise BusinessRuleViolation("Not enough money.", code="INSUFFICIENT_FUNDS")


@router.post("/withdrawals", status_code=201)
async def withdraw(
    idempotency_key: Annotated[str, Depends(require_idempotency_key)],
    principal: CurrentPrincipal,
    request: Request,
) -> dict[str, str]:
    calls(request)["withdrawals"] += 1
    return {"id": new_id("wdr"), "idempotency_key": idempotency_key}


@router.post("/exports")
async def export(principal: CurrentPrincipal, request: Request) -> Response:
    calls(request)["exports"] += 1
    return Response(b"x" * (RESPONSE_BODY_BYTES_MAX + 1), media_type="text/csv")


@dataclass
class Harness:
    client: httpx.AsyncClient
    calls: Counter[str]
    engine: AsyncEngine


@pytest.fixture
async def harness(make_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[Harness]:
    engine = create_engine(await make_database("idem"), pool_size=5)
    async with engine.begin() as connection:
        await connection.run_sync(platform_metadata.create_all, tables=[idempotency_keys])
    keys = [
        {"name": "alice", "key_sha256": hash_api_key("ck_alice"), "roles": ["operator"]},
        {"name": "bob", "key_sha256": hash_api_key("ck_bob"), "roles": ["operator"]},
    ]
    settings = ServiceSettings.model_validate({"CLEARWAY_API_KEYS": json.dumps(keys)})
    app = create_http_app(settings=settings, title="t", version="0", routers=[router])
    # A service's lifespan sets this; ASGITransport does not run lifespans.
    app.state.session_factory = create_session_factory(engine)
    app.state.calls = Counter()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Harness(client, app.state.calls, engine)
    await engine.dispose()


async def test_same_key_and_payload_replays_the_stored_response(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "k-1"}
    first = await harness.client.post("/transfers", json={"amount_minor": 100, "currency": "USD"}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    # Key order and whitespace do not change the request's meaning.
    again = await harness.client.post(
        "/transfers", content=b'{ "currency": "USD",  "amount_minor": 100 }', headers=headers
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == "application/json"
    assert "x-debug" not in again.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert harness.calls["transfers"] == 1


async def test_same_key_with_a_different_request_is_422(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "k-2"}
    body = {"amount_minor": 100, "currency": "USD"}
    assert (await harness.client.post("/transfers", json=body, headers=headers)).status_code == 201
    for path, payload in (("/transfers", {**body, "amount_minor": 101}), ("/slow", body)):
        reused = await harness.client.post(path, json=payload, headers=headers)
        assert reused.status_code == 422
        assert reused.headers["content-type"] == "application/problem+json"
        assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert harness.calls["transfers"] == 1


async def test_concurrent_duplicate_is_409_and_runs_once(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "k-3"}
    first, second = await asyncio.gather(
        harness.client.post("/slow", headers=headers),
        harness.client.post("/slow", headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    conflict = first if first.status_code == 409 else second
    assert conflict.json()["code"] == "IDEMPOTENCY_REQUEST_IN_PROGRESS"
    assert conflict.headers["retry-after"] == "1"
    assert harness.calls["slow"] == 1
    replay = await harness.client.post("/slow", headers=headers)
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (201, "true")


async def test_server_errors_release_the_key_for_a_retry(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "k-4"}
    crashed = await harness.client.post("/flaky", headers=headers)
    assert (crashed.status_code, crashed.json()["code"]) == (500, "INTERNAL_ERROR")
    unavailable = await harness.client.post("/flaky", headers=headers)
    assert (unavailable.status_code, unavailable.json()["code"]) == (503, "PROVIDER_UNAVAILABLE")
    assert "idempotent-replayed" not in unavailable.headers
    succeeded = await harness.client.post("/flaky", headers=headers)
    assert succeeded.status_code == 201
    replay = await harness.client.post("/flaky", headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == succeeded.json()
    assert harness.calls["flaky"] == 3


async def test_an_answer_with_retry_after_is_not_the_keys_final_answer(harness: Harness) -> None:
    """A route's 409 "still in progress" describes the moment: the same request retried once the
    moment has passed is acted on, not answered 409 again from the store."""
    headers = {**ALICE, "Idempotency-Key": "k-busy"}
    busy = await harness.client.post("/settlements", headers=headers)
    assert (busy.status_code, busy.json()["code"], busy.headers["retry-after"]) == (409, "REVERSAL_IN_PROGRESS", "1")
    done = await harness.client.post("/settlements", headers=headers)
    assert done.status_code == 201 and "idempotent-replayed" not in done.headers
    replay = await harness.client.post("/settlements", headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == done.json()
    assert harness.calls["settlements"] == 2


async def test_client_errors_are_stored_and_replayed(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "k-5"}
    refused = await harness.client.post("/refusals", headers=headers)
    replay = await harness.client.post("/refusals", headers=headers)
    assert refused.status_code == replay.status_code == 422
    assert replay.json()["code"] == "INSUFFICIENT_FUNDS"
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.headers["idempotent-replayed"] == "true"
    assert harness.calls["refusals"] == 1


async def test_keys_are_scoped_to_the_principal(harness: Harness) -> None:
    body = {"amount_minor": 100, "currency": "USD"}
    alice = await harness.client.post("/transfers", json=body, headers={**ALICE, "Idempotency-Key": "shared"})
    bob = await harness.client.post("/transfers", json=body, headers={**BOB, "Idempotency-Key": "shared"})
    assert (alice.json()["created_by"], bob.json()["created_by"]) == ("alice", "bob")
    assert "idempotent-replayed" not in bob.headers
    assert harness.calls["transfers"] == 2


async def test_required_key_and_unauthenticated_requests(harness: Harness) -> None:
    missing = await harness.client.post("/withdrawals", headers=ALICE)
    assert (missing.status_code, missing.json()["code"]) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    created = await harness.client.post("/withdrawals", headers={**ALICE, "Idempotency-Key": "w-1"})
    assert created.status_code == 201
    assert created.json()["idempotency_key"] == "w-1"
    for headers in ({"Idempotency-Key": "w-1"}, {}):
        anonymous = await harness.client.post("/withdrawals", headers=headers)
        assert anonymous.status_code == 401
    too_long = await harness.client.post("/withdrawals", headers={**ALICE, "Idempotency-Key": "x" * 256})
    assert (too_long.status_code, too_long.json()["code"]) == (400, "IDEMPOTENCY_KEY_INVALID")
    assert harness.calls["withdrawals"] == 1


async def test_expired_keys_are_reusable_and_cleaned_up_in_bounded_batches(harness: Harness) -> None:
    body = {"amount_minor": 100, "currency": "USD"}
    for number in range(3):
        headers = {**ALICE, "Idempotency-Key": f"old-{number}"}
        assert (await harness.client.post("/transfers", json=body, headers=headers)).status_code == 201
    async with harness.engine.begin() as connection:
        await connection.execute(
            update(idempotency_keys).values(expires_at=func.now() - func.make_interval(0, 0, 0, 1))
        )
    # An expired key is a new key: a different payload runs instead of being refused.
    fresh = await harness.client.post(
        "/transfers", json={**body, "amount_minor": 7}, headers={**ALICE, "Idempotency-Key": "old-0"}
    )
    assert (fresh.status_code, fresh.json()["amount_minor"]) == (201, 7)
    assert await delete_expired_idempotency_keys(harness.engine, batch_size_max=1) == 1
    assert await delete_expired_idempotency_keys(harness.engine, batch_size_max=10) == 1
    assert await delete_expired_idempotency_keys(harness.engine) == 0
    async with harness.engine.connect() as connection:
        remaining = (await connection.execute(select(idempotency_keys.c.idempotency_key))).scalars().all()
    assert remaining == ["old-0"]


async def test_a_stalled_claim_is_taken_over_and_its_holder_cannot_complete(harness: Harness) -> None:
    store = IdempotencyStore(harness.engine, in_progress_timeout_s=60)
    claim = {"principal_name": "alice", "key": "stall", "fingerprint": "f" * 64, "method": "POST", "path": "/x"}
    stalled = await store.acquire(**claim)
    assert isinstance(stalled, Acquired)
    assert isinstance(await store.acquire(**claim), InProgress)
    async with harness.engine.begin() as connection:
        await connection.execute(
            update(idempotency_keys).values(locked_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 5))
        )
    taken_over = await store.acquire(**claim)
    assert isinstance(taken_over, Acquired)
    response = StoredResponse(201, [("content-type", "application/json")], b"{}")
    assert not await store.complete(
        principal_name="alice", key="stall", lock_token=stalled.lock_token, response=response
    )
    assert await store.complete(
        principal_name="alice", key="stall", lock_token=taken_over.lock_token, response=response
    )


async def test_an_unstorable_response_is_sent_and_its_key_stays_claimed(harness: Harness) -> None:
    headers = {**ALICE, "Idempotency-Key": "big"}
    first = await harness.client.post("/exports", headers=headers)
    assert first.status_code == 200
    assert len(first.content) == RESPONSE_BODY_BYTES_MAX + 1
    # Releasing would let a retry run the mutation again; the claim stays until it goes stale.
    retry = await harness.client.post("/exports", headers=headers)
    assert retry.status_code == 409
    assert harness.calls["exports"] == 1
