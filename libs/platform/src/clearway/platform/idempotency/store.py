"""The `idempotency_keys` table and its claims: who runs a request, and the answer it stored."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

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
from sqlalchemy.ext.asyncio import AsyncEngine

from clearway.platform.owner_lease import owner_is_gone_sql
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
    # The claiming process's OwnerLease id: while that lease is held the owner is alive; once it is
    # gone a retry may take the claim over at once. NULL: no lease, only the timeout frees it.
    Column("owner_id", Integer, nullable=True),
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
        self, *, principal_name: str, key: str, fingerprint: str, method: str, path: str, owner_id: int | None = None
    ) -> AcquireOutcome:
        for _attempt in range(ACQUIRE_ATTEMPTS_MAX):
            lock_token = uuid.uuid4().hex
            if await self._claim(principal_name, key, fingerprint, method, path, lock_token, owner_id):
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
        self,
        principal_name: str,
        key: str,
        fingerprint: str,
        method: str,
        path: str,
        lock_token: str,
        owner_id: int | None,
    ) -> bool:
        insert_row = insert(idempotency_keys).values(
            principal_name=principal_name,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            request_method=method,
            request_path=path,
            state=IN_PROGRESS,
            lock_token=lock_token,
            owner_id=owner_id,
            expires_at=func.now() + self._ttl,
        )
        existing = idempotency_keys.c
        excluded = insert_row.excluded
        # Take the row over only when it has expired, or when its holder died or stalled on the
        # same request: died is known at once from its owner lease, stalled from the timeout.
        takeover = or_(
            existing.expires_at < func.now(),
            and_(
                existing.state == IN_PROGRESS,
                existing.request_fingerprint == excluded.request_fingerprint,
                or_(
                    existing.locked_at < func.now() - self._in_progress_timeout,
                    and_(existing.owner_id.is_not(None), owner_is_gone_sql("idempotency_keys.owner_id")),
                ),
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
                "owner_id": excluded.owner_id,
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
