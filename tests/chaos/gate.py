"""A gate the workload passes through before each operation, so a fault can wait for quiet.

The embedded broker keeps its log in memory: a restart forgets every record in it. Restarting it
under records not yet consumed would lose them by design of the test double, not of the
platform, so the broker restart closes the gate, lets the operations in flight finish and their
effects land, and only then restarts the broker under the running services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Gate:
    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0

    @contextlib.asynccontextmanager
    async def operation(self) -> AsyncIterator[None]:
        await self._open.wait()
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def close(self) -> None:
        """Let no new operation start; return once none is in flight."""
        self._open.clear()
        await self._idle.wait()

    def open(self) -> None:
        self._open.set()
