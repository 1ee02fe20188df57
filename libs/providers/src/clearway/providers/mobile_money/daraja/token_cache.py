"""Cache Daraja's OAuth token until shortly before it expires.

One lock makes concurrent callers share a single fetch instead of each asking Daraja for a
token at once when the cached one runs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from clearway.providers.clock import Clock

FetchToken = Callable[[], Awaitable[tuple[str, int]]]
"""Fetches a fresh token: -> (access_token, expires_in_s)."""


class AccessTokenCache:
    def __init__(self, fetch: FetchToken, *, clock: Clock, refresh_margin_ms: int) -> None:
        assert refresh_margin_ms >= 0
        self._fetch = fetch
        self._clock = clock
        self._refresh_margin = timedelta(milliseconds=refresh_margin_ms)
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    def _fresh_token(self) -> str | None:
        if self._token is None or self._expires_at is None:
            return None
        return self._token if self._clock() < self._expires_at else None

    async def get(self) -> str:
        token = self._fresh_token()
        if token is not None:
            return token
        async with self._lock:
            token = self._fresh_token()  # another caller may have refreshed it while we waited
            if token is not None:
                return token
            token, expires_in_s = await self._fetch()
            assert token and expires_in_s > 0
            lifetime = timedelta(seconds=expires_in_s)
            # A margin longer than the lifetime would refetch on every call; keep at least half of it.
            margin = min(self._refresh_margin, lifetime / 2)
            self._token, self._expires_at = token, self._clock() + lifetime - margin
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Daraja refused it; a newer token fetched meanwhile is kept."""
        if self._token == token:
            self._token, self._expires_at = None, None
