"""Background work done one way: run a bounded pass every `interval_ms` until stopped.

A pass that raises is logged and the next one runs on schedule: a database or a dependency that
is briefly away must not end the loop for the life of the process. An outage is logged once when
it starts and once when it ends (`OutageLog`), not with a traceback every interval. The pass itself must be
bounded (a batch size, a timeout); this loop bounds only the wait between passes and `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from clearway.platform.failures import OutageLog, failed_dependency, is_infrastructure_failure

logger = logging.getLogger(__name__)

INTERVAL_MS_MAX = 3_600_000
STOP_TIMEOUT_MS_DEFAULT = 10_000

RunPass = Callable[[], Awaitable[object]]


class PeriodicTask:
    """`start()` runs the first pass at once, then one every `interval_ms` after the previous one ends.

    `stop()` lets a pass in progress finish for up to `stop_timeout_ms`, then cancels it.
    """

    def __init__(
        self, name: str, interval_ms: int, run_pass: RunPass, *, stop_timeout_ms: int = STOP_TIMEOUT_MS_DEFAULT
    ) -> None:
        assert name, "a task is named in its logs"
        assert 1 <= interval_ms <= INTERVAL_MS_MAX, f"interval_ms out of bounds: {interval_ms}"
        assert stop_timeout_ms >= 1
        self.name = name
        self._interval_s = interval_ms / 1000
        self._stop_timeout_s = stop_timeout_ms / 1000
        self._run_pass = run_pass
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.passes_completed = 0
        self.passes_failed = 0
        self._outages = OutageLog(logger, meanwhile=f"retrying {name} every {interval_ms} ms")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        assert self._task is None, f"periodic task {self.name} was already started"
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Idempotent, and safe when never started. Returns within about twice `stop_timeout_ms`."""
        self._stopping.set()
        task = self._task
        if task is None or task.done():
            return
        done, _pending = await asyncio.wait({task}, timeout=self._stop_timeout_s)
        if done:
            return
        logger.warning("periodic task %s did not stop in time; cancelling its pass", self.name)
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=self._stop_timeout_s)
        if not done:
            logger.error("periodic task %s ignored its cancellation", self.name)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._run_pass()
                self.passes_completed += 1
                self._outages.succeeded()
            except Exception as error:
                # The next pass tries again; the loop outlives any one failure.
                self.passes_failed += 1
                if is_infrastructure_failure(error):
                    self._outages.failed(failed_dependency(error), error)
                else:
                    logger.exception("periodic task %s: pass failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_s)
