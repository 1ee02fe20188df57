"""`make chaos`: start a platform of its own (PostgreSQL and broker included, so both can be
restarted), run the full chaos configuration against it, print the table, write the summary.

    python -m tests.chaos [--seed N] [--scale 0.25] [--output bench-results/chaos.json]

`CHAOS_SEED` sets the seed when `--seed` is not given; the same seed injects the same faults
at the same points of the workload. Exit status 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

from clearway.devstack.stack import Platform, start_platform
from tests.chaos.config import FULL
from tests.chaos.harness import run_chaos
from tests.chaos.report import table, write_json

# Funding asks the sandbox about a top-up, and payout about a payout, whose callback it missed
# after 2 s (30 s in production).
FAST_STATUS_QUERY_ENV = {
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_AFTER_MS": "2000",
    "CLEARWAY_FUNDING_TOPUP_STATUS_QUERY_INTERVAL_MS": "1000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_AFTER_MS": "2000",
    "CLEARWAY_PAYOUT_STATUS_QUERY_INTERVAL_MS": "1000",
}


def own_platform(work_dir: Path) -> Platform:
    # No server URLs: the platform starts PostgreSQL and the broker itself, and may restart them.
    return start_platform(
        database_prefix=f"chaos_{secrets.token_hex(4)}",
        work_dir=work_dir,
        stream_logs=False,
        extra_env=FAST_STATUS_QUERY_ENV,
    )


async def main(seed: int, scale: float, output: Path) -> int:
    config = FULL.scaled(seed, scale)
    work_dir = Path(tempfile.mkdtemp(prefix="clearway-chaos-"))
    print(
        f"chaos: seed {seed}, at least {config.transfers} transfers (HTTP) and {config.kafka_transfers} (Kafka), "
        f"{config.deposits} deposits, {config.topups} top-ups, {config.fundings} post-fundings, "
        f"{config.withdrawals} withdrawals, {config.authorizations} card authorizations"
    )
    print(f"chaos: starting the platform (logs in {work_dir / 'logs'})", flush=True)
    platform = await asyncio.to_thread(own_platform, work_dir)
    try:
        summary = await run_chaos(platform, config)
    finally:
        await asyncio.to_thread(platform.stop)
    print()
    print(table(summary))
    write_json(summary, output)
    print(f"\nsummary written to {output}")
    return 0 if summary.ok else 1


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", FULL.seed)))
    parser.add_argument("--scale", type=float, default=1.0, help="workload size relative to the full run")
    parser.add_argument("--output", type=Path, default=Path("bench-results/chaos.json"))
    return parser.parse_args()


if __name__ == "__main__":
    args = arguments()
    sys.exit(asyncio.run(main(args.seed, args.scale, args.output)))
