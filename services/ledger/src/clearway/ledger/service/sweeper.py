"""Background upkeep: void holds past their expiry, apply scheduled transactions when due.

Every hold has a way out: a client commits or voids it, or this sweeper voids it when
`inflight_expiry_date` passes. Runs in every ledger instance; the pipeline's row locks make
two sweepers acting on one hold harmless (the second finds it already voided).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from clearway.ledger.adapters.repository import LedgerRepository
from clearway.ledger.service.posting.operations import ApplyScheduled, Operation, VoidHold
from clearway.ledger.service.posting.pipeline import PostingPipeline, utc_now

logger = logging.getLogger(__name__)


async def sweep_once(pool: asyncpg.Pool, pipeline: PostingPipeline, *, batch_size_max: int) -> int:
    now = utc_now()
    async with pool.acquire() as connection:
        repository = LedgerRepository(connection)
        expired = await repository.expired_holds(now, batch_size_max)
        due = await repository.due_scheduled(now, batch_size_max)
    operations: list[Operation] = [VoidHold(transaction_id, reason="expired") for transaction_id in expired]
    operations += [ApplyScheduled(transaction_id) for transaction_id in due]
    if not operations:
        return 0
    results = await pipeline.run_now(operations)
    failures = [result.error for result in results if result.error is not None]
    if failures:
        logger.info("sweeper skipped operations", extra={"count": len(failures), "first": str(failures[0])})
    return len(operations) - len(failures)


async def run_sweeper(pool: asyncpg.Pool, pipeline: PostingPipeline, *, interval_ms: int, batch_size_max: int) -> None:
    while True:
        try:
            await sweep_once(pool, pipeline, batch_size_max=batch_size_max)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("sweeper pass failed")
        await asyncio.sleep(interval_ms / 1000)
