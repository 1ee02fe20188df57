"""Injectable clocks: production reads the system time, tests move time by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware datetime."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to, so delays in tests are exact and instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 1, tzinfo=UTC)
        assert self._now.tzinfo is not None, "ManualClock needs a timezone-aware start"

    def __call__(self) -> datetime:
        return self._now

    def advance(self, *, ms: int) -> datetime:
        assert ms >= 0, "time never runs backwards"
        self._now += timedelta(milliseconds=ms)
        return self._now
