"""`Idempotency-Key` for mutations: the first response is stored and replayed to retries.

How it behaves, per (principal, key):
- first request: a row is claimed `in_progress`, the route runs, its response is stored
  (`completed`) before the client sees it, so a retry after any answer replays it;
- same key, same request: the stored response again, with `Idempotent-Replayed: true`;
- same key, different request (method, path, query or canonical JSON body): 422
  `IDEMPOTENCY_KEY_REUSED`;
- same key while the first is still running: 409 `IDEMPOTENCY_REQUEST_IN_PROGRESS`;
- 5xx (and 408/429, which are transient by definition) or an unhandled error: the claim is
  released so the client can retry; other 4xx are stored and replayed;
- a response too large to store is sent but not stored, and its claim is kept (a retry gets
  409 until the claim goes stale), because releasing it could run the mutation twice.

It is an ASGI middleware (installed by `create_http_app`) so it stores exactly the bytes the
client received, error bodies included. It resolves the principal with the same
`Authenticator` the routes use; requests without a valid principal pass through untouched (the
route answers 401), so anonymous callers never share a replay namespace. A route that must
have a key declares `Depends(require_idempotency_key)`.

A process that dies between the route's commit and storing the response leaves the claim
`in_progress`; after `in_progress_timeout_s` a retry with the same payload takes it over and
runs the route again. Routes therefore still pass deterministic references downstream (the
ledger refuses a second posting with the same reference), which makes that re-run harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Header, Request
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.platform.auth import Authenticator, CurrentPrincipal
from clearway.platform.errors import BadRequest, problem_body, problem_response, status_title
from clearway.platform.tables import platform_metadata

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_LENGTH_MAX = 255
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_TTL_S = 24 * 60 * 60
IN_PROGRESS_TIMEOUT_S = 120
REQUEST_BODY_BYTES_MAX = 1024 * 1024
RESPONSE_BODY_BYTES_MAX = 1024 * 1024
ACQUIRE_ATTEMPTS_MAX = 3
CLEANUP_BATCH_SIZE_MAX = 10_000
# Statuses that describe the moment, not the request: never replayed.
TRANSIENT_STATUSES = frozenset({408, 429})
# Headers worth replaying; correlation ids, lengths and cookies belong to each response.
STORED_HEADERS = frozenset({"content-type", "location", "etag", "link", "content-language"})
SCOPE_MARKER = "clearway.idempotency"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"

logger = logging.getLogger("clearway.platform.idempotency")

idempotency_keys = Table(
    "idempotency_keys",
    platform_metadata,
    Column("principal_name", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_fingerprint", Text, nullable=False),
    Column("request_method", Text, nullable=False),
    Column("request_path", Text, nullable=False),
    Column("state", Text, nullable=False),
    # Identifies the request holding an in_progress claim, so a stale holder cannot
    # overwrite a claim that another request has since taken over.
    Column("lock_token", Text, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", JSONB, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("locked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("principal_name", "idempotency_key", name="pk_idempotency_keys"),
    CheckConstraint("state IN ('in_progress', 'completed')", name="ck_idempotency_keys_state"),
)
Index("ix_idempotency_keys_expires_at", idempotency_keys.c.expires_at)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Acquired:
    lock_token: str


@dataclass(frozen=True, slots=True)
class Replay:
    response: StoredResponse


@dataclass(frozen=True, slots=True)
class KeyReused:
    pass


@dataclass(frozen=True, slots=True)
class InProgress:
    pass


AcquireOutcome = Acquired | Replay | KeyReused | InProgress


def _decimal_as_text(value: object) -> str:
    assert isinstance(value, Decimal)
    return str(value)


def canonical_body(body: bytes) -> bytes:
    """JSON bodies compare by meaning (key order, whitespace); anything else byte for byte."""
    if not body:
        return b""
    try:
        # Decimal keeps `10.10` and `10.1` distinct and never rounds through a float.
        parsed = json.loads(body, parse_float=Decimal)
    except ValueError:
        return body
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_decimal_as_text)
    return canonical.encode("utf-8")


def request_fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(method.upper().encode("ascii"))
    digest.update(b"\n")
    digest.update(path.encode("utf-8"))
    digest.update(b"?")
    digest.update(query_string)
    digest.update(b"\n")
    digest.update(canonical_body(body))
    return digest.hexdigest()


def is_valid_idempotency_key(key: str) -> bool:
    return 1 <= len(key) <= IDEMPOTENCY_KEY_LENGTH_MAX and key.isascii() and key.isprintable()


class IdempotencyStore:
    """The `idempotency_keys` table. Each call is its own short transaction."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl_s: int = KEY_TTL_S,
        in_progress_timeout_s: int = IN_PROGRESS_TIMEOUT_S,
    ) -> None:
        assert ttl_s > in_progress_timeout_s > 0
        self._engine = engine
        self._ttl = timedelta(seconds=ttl_s)
        self._in_progress_timeout = timedelta(seconds=in_progress_timeout_s)

    def _row(self, principal_name: str, key: str) -> Any:
        return and_(
            idempotency_keys.c.principal_name == principal_name,
            idempotency_keys.c.idempotency_key == key,
        )

    async def acquire(
        self, *, principal_name: str, key: str, fingerprint: str, method: str, path: str
    ) -> AcquireOutcome:
        for _attempt in range(ACQUIRE_ATTEMPTS_MAX):
            lock_token = uuid.uuid4().hex
            if await self._claim(principal_name, key, fingerprint, method, path, lock_token):
                return Acquired(lock_token)
            async with self._engine.connect() as connection:
                existing = (
                    await connection.execute(
                        select(
                            idempotency_keys.c.request_fingerprint,
                            idempotency_keys.c.state,
                            idempotency_keys.c.response_status,
                            idempotency_keys.c.response_headers,
                            idempotency_keys.c.response_body,
                        ).where(self._row(principal_name, key))
                    )
                ).one_or_none()
            if existing is None:
                continue  # released between our claim and this read: claim again
            if existing.request_fingerprint != fingerprint:
                return KeyReused()
            if existing.state == COMPLETED:
                headers = [(str(name), str(value)) for name, value in existing.response_headers or []]
                return Replay(StoredResponse(existing.response_status, headers, bytes(existing.response_body)))
            return InProgress()
        return InProgress()

    async def _claim(
        self, principal_name: str, key: str, fingerprint: str, method: str, path: str, lock_token: str
    ) -> bool:
        insert_row = insert(idempotency_keys).values(
            principal_name=principal_name,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            request_method=method,
            request_path=path,
            state=IN_PROGRESS,
            lock_token=lock_token,
            expires_at=func.now() + self._ttl,
        )
        existing = idempotency_keys.c
        excluded = insert_row.excluded
        # Take the row over only when it has expired, or when its holder stalled on the same request.
        takeover = or_(
            existing.expires_at < func.now(),
            and_(
                existing.state == IN_PROGRESS,
                existing.locked_at < func.now() - self._in_progress_timeout,
                existing.request_fingerprint == excluded.request_fingerprint,
            ),
        )
        claim = insert_row.on_conflict_do_update(
            index_elements=[existing.principal_name, existing.idempotency_key],
            set_={
                "request_fingerprint": excluded.request_fingerprint,
                "request_method": excluded.request_method,
                "request_path": excluded.request_path,
                "state": IN_PROGRESS,
                "lock_token": excluded.lock_token,
                "response_status": None,
                "response_headers": None,
                "response_body": None,
                "created_at": func.now(),
                "locked_at": func.now(),
                "completed_at": None,
                "expires_at": excluded.expires_at,
            },
            where=takeover,
        ).returning(existing.lock_token)
        async with self._engine.begin() as connection:
            claimed = (await connection.execute(claim)).scalar_one_or_none()
        return bool(claimed == lock_token)

    async def complete(self, *, principal_name: str, key: str, lock_token: str, response: StoredResponse) -> bool:
        statement = (
            update(idempotency_keys)
            .where(
                self._row(principal_name, key),
                idempotency_keys.c.state == IN_PROGRESS,
                idempotency_keys.c.lock_token == lock_token,
            )
            .values(
                state=COMPLETED,
                response_status=response.status,
                response_headers=[list(pair) for pair in response.headers],
                response_body=response.body,
                completed_at=func.now(),
            )
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount == 1)

    async def release(self, *, principal_name: str, key: str, lock_token: str) -> None:
        statement = delete(idempotency_keys).where(
            self._row(principal_name, key),
            idempotency_keys.c.state == IN_PROGRESS,
            idempotency_keys.c.lock_token == lock_token,
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)


async def delete_expired_idempotency_keys(engine: AsyncEngine, *, batch_size_max: int = 1_000) -> int:
    """Delete up to `batch_size_max` expired rows; call repeatedly (e.g. from a periodic task)."""
    assert 1 <= batch_size_max <= CLEANUP_BATCH_SIZE_MAX
    expired = (
        select(idempotency_keys.c.principal_name, idempotency_keys.c.idempotency_key)
        .where(idempotency_keys.c.expires_at < func.now())
        .order_by(idempotency_keys.c.expires_at)
        .limit(batch_size_max)
        .with_for_update(skip_locked=True)
    )
    statement = delete(idempotency_keys).where(
        tuple_(idempotency_keys.c.principal_name, idempotency_keys.c.idempotency_key).in_(expired)
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return int(result.rowcount)


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
            await _send_problem(scope, receive, send, 400, "IDEMPOTENCY_KEY_INVALID", _INVALID_KEY_DETAIL)
            return
        state = scope["app"].state
        authenticator = getattr(state, "authenticator", None)
        principal = authenticator.authenticate_headers(headers) if isinstance(authenticator, Authenticator) else None
        if principal is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, self.request_body_bytes_max)
        if body is None:
            await _send_problem(scope, receive, send, 413, "REQUEST_TOO_LARGE", "The request body is too large.")
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
        outcome = await store.acquire(
            principal_name=principal.name,
            key=key,
            fingerprint=request.fingerprint,
            method=scope["method"],
            path=scope["path"],
        )
        if isinstance(outcome, Replay):
            await _send_replay(outcome.response, send)
        elif isinstance(outcome, KeyReused):
            await _send_problem(scope, receive, send, 422, "IDEMPOTENCY_KEY_REUSED", _REUSED_DETAIL)
        elif isinstance(outcome, InProgress):
            await _send_problem(
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
                _replaying_receive(body, receive),
                send,
                outcome.lock_token,
                self.response_body_bytes_max,
            )


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
        if status >= 500 or status in TRANSIENT_STATUSES:
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


async def _read_body(receive: Receive, bytes_max: int) -> bytes | None:
    chunks: list[bytes] = []
    received_bytes = 0
    while True:  # bounded by bytes_max: each iteration consumes part of a finite body
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        received_bytes += len(chunk)
        if received_bytes > bytes_max:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying_receive(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_replay(response: StoredResponse, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    headers.append((REPLAYED_HEADER.lower().encode("ascii"), b"true"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


async def _send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = problem_body(status=status, code=code, title=status_title(status), detail=detail, instance=scope["path"])
    await problem_response(body, status=status, headers=headers)(scope, receive, send)
