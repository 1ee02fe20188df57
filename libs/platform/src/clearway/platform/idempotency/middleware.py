"""The ASGI middleware that runs a keyed mutation once and replays its stored answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import Header, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.platform.asgi_bodies import read_body, replaying_receive, send_problem
from clearway.platform.auth import Authenticator, CurrentPrincipal
from clearway.platform.errors import BadRequest
from clearway.platform.idempotency.store import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_LENGTH_MAX,
    IN_PROGRESS_TIMEOUT_S,
    KEY_TTL_S,
    MUTATING_METHODS,
    REPLAYED_HEADER,
    REQUEST_BODY_BYTES_MAX,
    RESPONSE_BODY_BYTES_MAX,
    SCOPE_MARKER,
    STORED_HEADERS,
    TRANSIENT_STATUSES,
    IdempotencyStore,
    InProgress,
    KeyReused,
    Replay,
    StoredResponse,
    is_valid_idempotency_key,
    request_fingerprint,
)
from clearway.platform.owner_lease import OwnerLease

logger = logging.getLogger("clearway.platform.idempotency")


def engine_from_state(state: Any) -> AsyncEngine:
    """The service's engine from `app.state.engine`, or the bind of `app.state.session_factory`."""
    engine = getattr(state, "engine", None)
    if isinstance(engine, AsyncEngine):
        return engine
    session_factory = getattr(state, "session_factory", None)
    if isinstance(session_factory, async_sessionmaker):
        bind = session_factory.kw.get("bind")
        if isinstance(bind, AsyncEngine):
            return bind
    raise RuntimeError("Idempotency-Key needs app.state.engine or app.state.session_factory (set it in lifespan)")


async def require_idempotency_key(
    request: Request,
    # Keys are scoped to a principal, so authenticate first: an anonymous caller gets 401, not 500.
    _principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY_HEADER,
            max_length=IDEMPOTENCY_KEY_LENGTH_MAX,
            description="Unique per request",
        ),
    ] = None,
) -> str:
    """Route dependency for mutations that must not run without a key (seed 001's withdrawals).

    `key: Annotated[str, Depends(require_idempotency_key)]`; it also authenticates the caller.
    """
    if not idempotency_key:
        raise BadRequest(f"The {IDEMPOTENCY_KEY_HEADER} header is required.", code="IDEMPOTENCY_KEY_REQUIRED")
    if request.scope.get(SCOPE_MARKER) is not True:
        # Fail loudly: a required key that nothing enforces would let duplicates through.
        raise RuntimeError("IdempotencyMiddleware is not installed (build the app with create_http_app)")
    return idempotency_key


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        ttl_s: int = KEY_TTL_S,
        in_progress_timeout_s: int = IN_PROGRESS_TIMEOUT_S,
        request_body_bytes_max: int = REQUEST_BODY_BYTES_MAX,
        response_body_bytes_max: int = RESPONSE_BODY_BYTES_MAX,
    ) -> None:
        self.app = app
        self.ttl_s = ttl_s
        self.in_progress_timeout_s = in_progress_timeout_s
        self.request_body_bytes_max = request_body_bytes_max
        self.response_body_bytes_max = response_body_bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not is_valid_idempotency_key(key):
            await send_problem(scope, receive, send, 400, "IDEMPOTENCY_KEY_INVALID", _INVALID_KEY_DETAIL)
            return
        state = scope["app"].state
        authenticator = getattr(state, "authenticator", None)
        principal = await authenticator.principal_or_none(headers) if isinstance(authenticator, Authenticator) else None
        if principal is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.request_body_bytes_max)
        if body is None:
            await send_problem(scope, receive, send, 413, "REQUEST_TOO_LARGE", "The request body is too large.")
            return
        store = IdempotencyStore(
            engine_from_state(state), ttl_s=self.ttl_s, in_progress_timeout_s=self.in_progress_timeout_s
        )
        request = _IdempotentRequest(
            store,
            principal.name,
            key,
            request_fingerprint(scope["method"], scope["path"], scope["query_string"], body),
        )
        lease = getattr(state, "owner_lease", None)
        outcome = await store.acquire(
            principal_name=principal.name,
            key=key,
            fingerprint=request.fingerprint,
            method=scope["method"],
            path=scope["path"],
            owner_id=lease.owner_id if isinstance(lease, OwnerLease) else None,
        )
        if isinstance(outcome, Replay):
            await _send_replay(outcome.response, send)
        elif isinstance(outcome, KeyReused):
            await send_problem(scope, receive, send, 422, "IDEMPOTENCY_KEY_REUSED", _REUSED_DETAIL)
        elif isinstance(outcome, InProgress):
            await send_problem(
                scope,
                receive,
                send,
                409,
                "IDEMPOTENCY_REQUEST_IN_PROGRESS",
                _IN_PROGRESS_DETAIL,
                {"Retry-After": "1"},
            )
        else:
            scope[SCOPE_MARKER] = True
            await request.run(
                self.app,
                scope,
                replaying_receive(body, receive),
                send,
                outcome.lock_token,
                self.response_body_bytes_max,
            )


def _says_retry_after(start: Message) -> bool:
    """A route's answer with `Retry-After` (a 409 "still in progress", a 503) describes the moment, not
    the request: stored, it would be every retry's answer after the moment passed."""
    return any(name.lower() == b"retry-after" for name, _ in start.get("headers", []))


_INVALID_KEY_DETAIL = f"{IDEMPOTENCY_KEY_HEADER} must be 1-{IDEMPOTENCY_KEY_LENGTH_MAX} printable ASCII characters."
_REUSED_DETAIL = f"This {IDEMPOTENCY_KEY_HEADER} was already used with a different request."
_IN_PROGRESS_DETAIL = f"A request with this {IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly."


class _IdempotentRequest:
    """Runs the route once, buffering its response until it is stored (or the claim released)."""

    def __init__(self, store: IdempotencyStore, principal_name: str, key: str, fingerprint: str) -> None:
        self.store = store
        self.principal_name = principal_name
        self.key = key
        self.fingerprint = fingerprint
        self.settled = False  # stored or released: nothing left to clean up

    async def run(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, lock_token: str, body_bytes_max: int
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        buffered_bytes = 0

        async def capture(message: Message) -> None:
            nonlocal start, buffered_bytes
            if self.settled:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                buffered_bytes += len(chunks[-1])
                if buffered_bytes <= body_bytes_max and not message.get("more_body", False):
                    assert start is not None, "response body before response start"
                    await self._settle(start, b"".join(chunks), lock_token)
                    await self._flush(send, start, chunks, more_body=False)
                    return
                if buffered_bytes <= body_bytes_max:
                    return
            # Too large (or not a plain body) to store. The route has run, so releasing the key
            # could run it twice; keep the claim, which then behaves like a crashed request.
            logger.warning("response not storable for idempotent replay", extra={"status": start and start["status"]})
            self.settled = True
            last = message if message["type"] != "http.response.body" else None
            more_body = last is not None or bool(message.get("more_body", False))
            await self._flush(send, start, chunks, more_body=more_body)
            if last is not None:
                await send(last)

        try:
            await app(scope, receive, capture)
        except BaseException:
            if not self.settled:
                # Shielded: a cancelled request must still free its key, or retries get 409 until stale.
                await asyncio.shield(self._release(lock_token))
            raise
        if not self.settled:
            await self._release(lock_token)

    async def _settle(self, start: Message, body: bytes, lock_token: str) -> None:
        status = int(start["status"])
        if status >= 500 or status in TRANSIENT_STATUSES or _says_retry_after(start):
            await self._release(lock_token)
            return
        headers = [
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in start.get("headers", [])
            if name.decode("latin-1").lower() in STORED_HEADERS
        ]
        try:
            stored = await self.store.complete(
                principal_name=self.principal_name,
                key=self.key,
                lock_token=lock_token,
                response=StoredResponse(status, headers, body),
            )
        except Exception:
            # The route's effects are committed; answer the client anyway. A retry gets 409
            # until the claim goes stale, then re-runs the route (see the module docstring).
            logger.exception("could not store idempotent response")
            stored = False
        if not stored:
            logger.warning("idempotency claim lost before the response was stored")
        self.settled = True

    async def _release(self, lock_token: str) -> None:
        if self.settled:
            return
        self.settled = True
        try:
            await self.store.release(principal_name=self.principal_name, key=self.key, lock_token=lock_token)
        except Exception:
            logger.exception("could not release idempotency claim")

    @staticmethod
    async def _flush(send: Send, start: Message | None, chunks: list[bytes], *, more_body: bool) -> None:
        if start is not None:
            await send(start)
        await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": more_body})
        chunks.clear()


async def _send_replay(response: StoredResponse, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    headers.append((REPLAYED_HEADER.lower().encode("ascii"), b"true"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})
