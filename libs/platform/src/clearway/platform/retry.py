"""Retry with back-off: the one policy every retrying site uses.

A `BackoffPolicy` says how often to try and how long to wait between tries: the wait after failed
attempt n is `initial_ms * multiplier ** (n - 1)`, capped at `maximum_ms`, plus up to `jitter_ms`
at random (still capped), so many clients that failed together do not retry together.

Two ways to use one, one formula behind both:
- a loop that sleeps by itself (the consumer's per-record retries and outage pause, the outbox
  relay) asks `delay_ms(attempt)` and sleeps as it must (e.g. waking early on shutdown);
- a call that is simply tried again (an HTTP client, topic creation) runs under
  `policy.retrying(retry_if=...)`, a configured `tenacity.AsyncRetrying`:

      async for attempt in LEDGER_REQUEST_BACKOFF.retrying(retry_if=is_transient):
          with attempt:
              return await send()

Each use has its own policy object, named for its use, holding that use's numbers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

logger = logging.getLogger(__name__)

# Bounds on any policy: a policy outside them is a programming error, not a configuration choice.
ATTEMPTS_MAX_LIMIT = 100
DELAY_MS_LIMIT = 600_000
MULTIPLIER_LIMIT = 10.0
# Past this many doublings every delay is at its cap; bounding the exponent keeps the power finite.
EXPONENT_MAX = 64

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How often to try, and how long to wait after each failed attempt.

    `attempts_max` bounds the tries of a call-and-retry site. `None` is for a loop that must keep
    trying until it is stopped (the outbox relay, the consumer waiting out an outage): it only
    asks `delay_ms` and cannot build `retrying()`.
    """

    attempts_max: int | None
    initial_ms: int
    maximum_ms: int
    multiplier: float = 2.0
    jitter_ms: int = 0

    def __post_init__(self) -> None:
        assert self.attempts_max is None or 1 <= self.attempts_max <= ATTEMPTS_MAX_LIMIT, self.attempts_max
        assert 0 <= self.initial_ms <= self.maximum_ms <= DELAY_MS_LIMIT, (self.initial_ms, self.maximum_ms)
        assert 1.0 <= self.multiplier <= MULTIPLIER_LIMIT, self.multiplier
        assert 0 <= self.jitter_ms <= self.maximum_ms, self.jitter_ms

    def delay_ms(self, attempt: int) -> int:
        """The wait after failed attempt number `attempt` (1-based), without jitter: pure and capped."""
        assert attempt >= 1, attempt
        assert self.attempts_max is None or attempt < self.attempts_max, "no wait after the last attempt"
        exponent = min(attempt - 1, EXPONENT_MAX)
        delay_ms = min(self.maximum_ms, int(self.initial_ms * self.multiplier**exponent))
        assert self.initial_ms <= delay_ms <= self.maximum_ms
        return delay_ms

    def jittered_delay_ms(self, attempt: int, *, uniform: Callable[[float, float], float] = random.uniform) -> int:
        """`delay_ms(attempt)` plus up to `jitter_ms` at random, still capped at `maximum_ms`."""
        delay_ms = self.delay_ms(attempt)
        if self.jitter_ms == 0:
            return delay_ms
        jittered_ms = min(self.maximum_ms, delay_ms + round(uniform(0, self.jitter_ms)))
        assert delay_ms <= jittered_ms <= self.maximum_ms
        return jittered_ms

    def worst_case_delay_ms(self) -> int:
        """The longest a bounded site can spend waiting between its attempts."""
        assert self.attempts_max is not None, "an unbounded loop has no worst case"
        return sum(min(self.maximum_ms, self.delay_ms(n) + self.jitter_ms) for n in range(1, self.attempts_max))

    def retrying(
        self,
        *,
        retry_if: Callable[[BaseException], bool],
        sleep: Sleep = asyncio.sleep,
        what: str | None = None,
    ) -> AsyncRetrying:
        """A `tenacity.AsyncRetrying` that makes at most `attempts_max` attempts, retries the errors
        `retry_if` accepts after `jittered_delay_ms`, and re-raises the last error (never a
        RetryError). `sleep` takes seconds, like asyncio.sleep. With `what`, each retry is logged."""
        attempts_max = self.attempts_max
        assert attempts_max is not None, "a call-and-retry site gives up after attempts_max"

        def wait_s(state: RetryCallState) -> float:
            # tenacity asks for the wait before it checks `stop`: after the last attempt there is none.
            if state.attempt_number >= attempts_max:
                return 0.0
            return self.jittered_delay_ms(state.attempt_number) / 1000

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            logger.warning(
                "%s failed (attempt %d of %d); retrying in %d ms",
                what,
                state.attempt_number,
                attempts_max,
                round(state.upcoming_sleep * 1000),
                exc_info=error,
            )

        return AsyncRetrying(
            stop=stop_after_attempt(attempts_max),
            wait=wait_s,
            retry=retry_if_exception(retry_if),
            sleep=sleep,
            before_sleep=log_retry if what is not None else None,
            reraise=True,
        )


def any_error(error: BaseException) -> bool:
    """`retry_if` for sites that retry every error (an `Exception`: cancellation is never retried)."""
    return isinstance(error, Exception)
