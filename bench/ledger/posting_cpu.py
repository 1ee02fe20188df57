"""`python -m bench.ledger.posting_cpu [--profile]`: CPU per transfer of the posting path's steps 2 and 3
(parse a `ledger.transaction.requested` command; post 1,000 in one group-commit batch) on the in-memory
store of the unit tests, so no database, broker or machine load is in the figure: the number to watch
when changing the posting rules' Python. Prints the median of 10 batches; `--profile` adds cProfile's top 30.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services/ledger/tests/unit"))
from in_memory_posting_store import InMemoryPostingUnitOfWork

from clearway.contracts.events.commands import LedgerTransactionRequested
from clearway.ledger.service.commands import transfer_from_command
from clearway.ledger.service.posting.operations import Transfer
from clearway.ledger.service.posting.pipeline import execute_batch

BALANCES = [f"bln_{number:026d}" for number in range(50)]
BATCH = 1_000


def commands(run: str) -> list[dict[str, object]]:
    chosen = random.Random(run)
    return [
        {
            "reference": f"cpu-{run}-{index}",
            "amount_minor": 1,
            "currency": "USD",
            "source": source,
            "destination": destination,
            "allow_overdraft": True,
        }
        for index, (source, destination) in enumerate(chosen.sample(BALANCES, 2) for _ in range(BATCH))
    ]


async def one_batch(run: str) -> tuple[float, float]:
    """Microseconds of CPU per transfer: parsing, then posting (the store's copy-on-begin included)."""
    unit_of_work = InMemoryPostingUnitOfWork()
    for balance_id in BALANCES:
        unit_of_work.open_balance(balance_id)
    payloads = commands(run)
    started = time.process_time()
    operations = [Transfer(transfer_from_command(LedgerTransactionRequested.model_validate(p))) for p in payloads]
    parsed = time.process_time()
    results = await execute_batch(unit_of_work, operations)
    posted = time.process_time()
    assert all(result.error is None for result in results), [result.error for result in results if result.error][:2]
    return (parsed - started) / BATCH * 1e6, (posted - parsed) / BATCH * 1e6


async def main(profile: bool) -> None:
    for warm_up in range(2):
        await one_batch(f"warm-{warm_up}")
    parse, post = zip(*[await one_batch(f"run-{number}") for number in range(10)], strict=True)
    print(f"parse {sorted(parse)[5]:.1f} us/transfer, post {sorted(post)[5]:.1f} us/transfer (median of 10 batches)")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for number in range(5):
            await one_batch(f"profile-{number}")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    asyncio.run(main("--profile" in sys.argv))
