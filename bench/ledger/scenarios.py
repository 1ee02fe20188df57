"""The load: who pays whom. Uniform spreads transfers over 50 funded balances; hot sends every
transfer from one source, the worst case for row locks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

CURRENCY = "USD"
UNIFORM_BALANCES = 50
AMOUNT_MINOR = 1  # one cent per transfer: sources are funded so nothing is rejected


@dataclass(frozen=True)
class Load:
    name: str
    sources: list[str]
    destinations: list[str]

    def pairs(self) -> Iterator[tuple[str, str]]:
        destinations = itertools.cycle(self.destinations)
        for source in itertools.cycle(self.sources):
            destination = next(destinations)
            if destination == source:
                destination = next(destinations)
            yield source, destination


async def create_balances(client: httpx.AsyncClient, count: int, label: str) -> list[str]:
    ledger = (await client.post("/ledgers", json={"name": f"bench {label}"})).json()
    ids = []
    for _ in range(count):
        response = await client.post("/balances", json={"ledger_id": ledger["ledger_id"], "currency": CURRENCY})
        response.raise_for_status()
        ids.append(response.json()["balance_id"])
    return ids


async def fund(client: httpx.AsyncClient, balance_ids: list[str], amount_minor: int, run_id: str) -> None:
    for balance_id in balance_ids:
        response = await client.post(
            "/transactions",
            json={
                "precise_amount": amount_minor,
                "precision": 100,
                "currency": CURRENCY,
                "reference": f"bench-fund-{run_id}-{balance_id}",
                "source": "@BenchFunding-USD",
                "destination": balance_id,
                "allow_overdraft": True,
            },
        )
        response.raise_for_status()


async def prepare_load(client: httpx.AsyncClient, name: str, transfers: int, run_id: str) -> Load:
    if name == "uniform_50":
        balances = await create_balances(client, UNIFORM_BALANCES, f"{name}-{run_id}")
        await fund(client, balances, transfers * AMOUNT_MINOR, run_id)
        return Load(name, balances, balances)
    assert name == "hot_1"
    source = await create_balances(client, 1, f"{name}-src-{run_id}")
    destinations = await create_balances(client, UNIFORM_BALANCES, f"{name}-dst-{run_id}")
    await fund(client, source, transfers * AMOUNT_MINOR, run_id)
    return Load(name, source, destinations)


async def total_of(client: httpx.AsyncClient, balance_ids: list[str]) -> int:
    total = 0
    for balance_id in set(balance_ids):
        response = await client.get(f"/balances/{balance_id}")
        response.raise_for_status()
        total += response.json()["balance"]
    return total
