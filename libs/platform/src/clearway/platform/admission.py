"""Admission control: under overload a service answers at once, with when to come back, instead of
letting requests queue until their clients time out (issue 14 §2 back-pressure, §3 rate limits).

- In flight: more than `http_inflight_max` requests being served at once -> 503 `OVERLOADED` with
  `Retry-After`. The service recovers by itself as requests finish; nothing restarts.
- Per key: a token bucket per principal (API key or end user), at the key's own `rate_limit_per_s`
  (from its key entry) or the service's `rate_limit_per_key_per_s`; bursts up to
  `RATE_LIMIT_BURST_S` seconds of that rate -> 429 `RATE_LIMITED` with `Retry-After`. Unset: no limit
  (the platform's own service keys usually carry none).
Probes and scrapes (`/health/`, `/metrics`) are always admitted: an overloaded service must still
say so to its orchestrator. Refusals change nothing: they happen before any route runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.platform.auth import Authenticator, Principal
from clearway.platform.errors import problem_body, problem_response, status_title

ALWAYS_ADMITTED_PREFIXES = ("/health/", "/metrics")
OVERLOADED_RETRY_AFTER_S = 1
RATE_LIMIT_BURST_S = 2.0
BUCKETS_MAX = 10_000  # principals remembered; beyond it the longest-idle are forgotten (a full bucket)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    refilled_at: float


class KeyRateLimiter:
    """Token buckets per principal name; `take` -> 0 when admitted, else seconds until a token."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, principal_name: str, rate_per_s: float) -> float:
        now = self._clock()
        capacity = max(1.0, rate_per_s * RATE_LIMIT_BURST_S)
        bucket = self._buckets.get(principal_name)
        if bucket is None:
            if len(self._buckets) >= BUCKETS_MAX:
                self._forget_idle()
            bucket = self._buckets[principal_name] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.refilled_at) * rate_per_s)
        bucket.refilled_at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate_per_s

    def _forget_idle(self) -> None:
        by_idleness = sorted(self._buckets, key=lambda name: self._buckets[name].refilled_at)
        for name in by_idleness[: len(by_idleness) // 2]:
            del self._buckets[name]


class AdmissionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        inflight_max: int | None,
        rate_limit_per_key_per_s: float | None,
        limiter: KeyRateLimiter | None = None,
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self._inflight_max = inflight_max
        self._default_rate = rate_limit_per_key_per_s
        self._limiter = limiter or KeyRateLimiter()
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ALWAYS_ADMITTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._inflight_max is not None and self.inflight >= self._inflight_max:
            await _refusal(503, "OVERLOADED", "The service is at capacity; retry shortly.", OVERLOADED_RETRY_AFTER_S)(
                scope, receive, send
            )
            return
        wait_s = self._rate_wait_s(scope)
        if wait_s > 0:
            detail = "This key's request rate is over its limit; retry after the time given."
            await _refusal(429, "RATE_LIMITED", detail, math.ceil(wait_s))(scope, receive, send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1

    def _rate_wait_s(self, scope: Scope) -> float:
        principal = self._principal(scope)
        if principal is None:
            return 0.0  # refused by the route's own authentication, not counted against anyone
        rate = principal.rate_limit_per_s or self._default_rate
        return self._limiter.take(principal.name, rate) if rate else 0.0

    def _principal(self, scope: Scope) -> Principal | None:
        if self._default_rate is None and not self._authenticator.has_rate_limited_keys:
            return None  # no limits configured: skip the key lookup
        return self._authenticator.authenticate_headers(Headers(scope=scope))


def _refusal(status: int, code: str, detail: str, retry_after_s: int) -> JSONResponse:
    body = problem_body(status=status, code=code, title=status_title(status), detail=detail, instance=None)
    return problem_response(body, status=status, headers={"Retry-After": str(max(1, retry_after_s))})
