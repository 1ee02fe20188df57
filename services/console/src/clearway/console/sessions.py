"""Signed-in operators, held only in this process's memory.

The operator's API key never reaches the browser again after sign-in: the browser holds a random
session id in an HttpOnly, SameSite=Strict cookie, and the key stays here, keyed by that id. A
restart signs everyone out, which is acceptable for an internal tool and keeps keys off disk.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_ID_BYTES = 32
CSRF_TOKEN_BYTES = 32


@dataclass
class Session:
    id: str
    api_key: str
    name: str
    roles: frozenset[str]
    csrf_token: str
    last_seen: float = field(default=0.0)
    # Post/redirect/get: what the last action did, shown once on the next page.
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def flash(self, kind: str, message: str) -> None:
        assert kind in ("ok", "error"), kind
        self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token.encode())


class SessionStore:
    """Bounded, idle-expiring sessions; the oldest is dropped when full."""

    def __init__(
        self, *, idle_timeout_s: float, sessions_max: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._idle_timeout_s = idle_timeout_s
        self._sessions_max = sessions_max
        self._clock = clock

    def create(self, *, api_key: str, name: str, roles: frozenset[str]) -> Session:
        session = Session(
            id=secrets.token_urlsafe(SESSION_ID_BYTES),
            api_key=api_key,
            name=name,
            roles=roles,
            csrf_token=secrets.token_urlsafe(CSRF_TOKEN_BYTES),
            last_seen=self._clock(),
        )
        self._sessions[session.id] = session
        while len(self._sessions) > self._sessions_max:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_seen > self._idle_timeout_s:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        self._sessions.move_to_end(session_id)
        return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
