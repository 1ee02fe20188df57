"""`python -m bench.ledger.http_cpu [--profile]`: CPU per `POST /transactions` request through the
ledger's whole ASGI app (the platform's middlewares, FastAPI's routing, dependencies and validation,
the posting pipeline, the JSON answer), driven in-process with the unit tests' in-memory store behind
the pipeline, so no socket, database or machine load is in the figure: the number to watch when
changing the HTTP stack. Prints the median of 7 rounds; `--profile` adds cProfile's top 40.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import random
import sys
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services/ledger/tests/unit"))
from in_memory_posting_store import InMemoryPostingUnitOfWork

API_KEY = "http-cpu-bench-key"
BALANCES = [f"bln_{number:026d}" for number in range(50)]
ROUND = 2_000
IN_FLIGHT = 64


class _ForgetfulUnitOfWork(InMemoryPostingUnitOfWork):  # type: ignore[misc]  # imported by path
    """Drops what each batch wrote once it commits: the in-memory store copies its tables at every
    begin, which would otherwise grow into the figure. Balances stay (they are what posting reads)."""

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Any]:
        async with super().begin() as session:
            yield session
        for table in (self.tables.transactions, self.tables.references, self.tables.lines, self.tables.outbox):
            table.clear()


def build_app() -> FastAPI:
    os.environ.setdefault("CLEARWAY_LEDGER_DATABASE_URL", "postgresql+asyncpg://bench@127.0.0.1/unused")
    os.environ["CLEARWAY_DEV_API_KEY"] = API_KEY
    os.environ.setdefault("CLEARWAY_LEDGER_LOG_LEVEL", "WARNING")
    from clearway.ledger.main import create_app
    from clearway.ledger.service.posting.pipeline import PostingPipeline

    app = create_app()
    unit_of_work = _ForgetfulUnitOfWork()
    for balance_id in BALANCES:
        unit_of_work.open_balance(balance_id)
    app.state.pipeline = PostingPipeline(unit_of_work)
    return app


async def one_request(app: FastAPI, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/transactions",
        "raw_path": b"/transactions",
        "root_path": "",
        "query_string": b"",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-blnk-key", API_KEY.encode()),
            (b"accept", b"*/*"),
        ],
        "state": {},
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def one_round(app: FastAPI, run: str) -> float:
    chosen = random.Random(run)
    bodies = [
        orjson.dumps(
            {
                "precise_amount": 1,
                "precision": 100,
                "currency": "USD",
                "reference": f"http-cpu-{run}-{index}",
                "source": source,
                "destination": destination,
                "allow_overdraft": True,
            }
        )
        for index, (source, destination) in enumerate(chosen.sample(BALANCES, 2) for _ in range(ROUND))
    ]
    pending = iter(bodies)

    async def caller() -> None:
        for body in pending:
            status = await one_request(app, body)
            assert status == 201, status

    started = time.process_time()
    await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))
    return (time.process_time() - started) / ROUND * 1e6


async def main(profile: bool) -> None:
    app = build_app()
    await app.state.pipeline.start()
    for warm_up in range(2):
        await one_round(app, f"warm-{warm_up}")
    rounds = sorted([await one_round(app, f"run-{number}") for number in range(7)])
    print(
        f"POST /transactions: {rounds[3]:.0f} us CPU per request (median of 7 rounds of {ROUND}, {IN_FLIGHT} in flight)"
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for number in range(3):
            await one_round(app, f"profile-{number}")
        profiler.disable()
        pstats.Stats(profiler).sort_stats(sys.argv[2] if len(sys.argv) > 2 else "tottime").print_stats(
            int(sys.argv[3]) if len(sys.argv) > 3 else 40
        )
    await app.state.pipeline.stop()


if __name__ == "__main__":
    asyncio.run(main("--profile" in sys.argv))
