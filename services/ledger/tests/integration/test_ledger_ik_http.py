"""Ledgers with an `ik` (FRAGMENT's createLedger): created once, found by ik, no duplicate under races."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:10]}"


async def test_a_known_ik_answers_the_existing_ledger(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    ik = unique("ledger-ik")
    created = await client.post("/ledgers", json={"name": "Payments", "ik": ik, "meta_data": {"team": "recon"}})
    assert created.status_code == 201, created.text
    ledger = created.json()
    assert ledger["ik"] == ik and ledger["name"] == "Payments" and ledger["meta_data"] == {"team": "recon"}
    assert "Idempotent-Replayed" not in created.headers

    # Again, even with another name: the ledger the ik created, untouched (as FRAGMENT answers).
    again = await client.post("/ledgers", json={"name": "Other name", "ik": ik})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == ledger

    found = await client.get("/ledgers", params={"ik": ik})
    assert found.status_code == 200 and found.json() == [ledger]
    assert (await client.get("/ledgers", params={"ik": unique("unknown")})).json() == []
    assert (await client.get(f"/ledgers/{ledger['ledger_id']}")).json() == ledger


async def test_ledgers_without_an_ik_are_created_each_time(ledger_client: httpx.AsyncClient) -> None:
    client = ledger_client
    first = await client.post("/ledgers", json={"name": "Blnk style"})
    second = await client.post("/ledgers", json={"name": "Blnk style"})
    assert first.status_code == second.status_code == 201
    assert first.json()["ik"] is None and first.json()["ledger_id"] != second.json()["ledger_id"]
    listed = (await client.get("/ledgers", params={"limit": 100})).json()
    assert {first.json()["ledger_id"], second.json()["ledger_id"]} <= {item["ledger_id"] for item in listed}


@pytest.mark.parametrize("ik", ["", "x" * 256, "line\nbreak"], ids=["empty", "too-long", "unprintable"])
async def test_an_ik_has_one_to_255_printable_characters(ledger_client: httpx.AsyncClient, ik: str) -> None:
    response = await ledger_client.post("/ledgers", json={"name": "Bad ik", "ik": ik})
    assert response.status_code == 400, response.text
    response = await ledger_client.get("/ledgers", params={"ik": "x" * 256})
    assert response.status_code == 400, response.text


async def test_concurrent_creates_with_one_ik_make_one_ledger(
    ledger_client: httpx.AsyncClient, ledger_pool: asyncpg.Pool
) -> None:
    ik = unique("race")
    responses = await asyncio.gather(
        *(ledger_client.post("/ledgers", json={"name": f"racer {number}", "ik": ik}) for number in range(12))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 11 + [201], [response.text for response in responses]
    assert len({response.json()["ledger_id"] for response in responses}) == 1
    async with ledger_pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM ledgers WHERE ik = $1", ik) == 1
