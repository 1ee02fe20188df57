"""`Idempotency-Key` for mutations: the first response is stored and replayed to retries.

How it behaves, per (principal, key):
- first request: a row is claimed `in_progress`, the route runs, its response is stored
  (`completed`) before the client sees it, so a retry after any answer replays it;
- same key, same request: the stored response again, with `Idempotent-Replayed: true`;
- same key, different request (method, path, query or canonical JSON body): 422
  `IDEMPOTENCY_KEY_REUSED`;
- same key while the first is still running: 409 `IDEMPOTENCY_REQUEST_IN_PROGRESS`;
- 5xx (and 408/429, which are transient by definition), any answer with `Retry-After` (a route's
  409 "still in progress" describes the moment, not the request) or an unhandled error: the claim is
  released so the client can retry; other 4xx are stored and replayed;
- a response too large to store is sent but not stored, and its claim is kept (a retry gets
  409 until the claim goes stale), because releasing it could run the mutation twice.

It is an ASGI middleware (installed by `create_http_app`) so it stores exactly the bytes the
client received, error bodies included. It resolves the principal with the same
`Authenticator` the routes use; requests without a valid principal pass through untouched (the
route answers 401), so anonymous callers never share a replay namespace. A route that must
have a key declares `Depends(require_idempotency_key)`.

A process that dies between the route's commit and storing the response leaves the claim
`in_progress`. The claim names its process's `OwnerLease`, a PostgreSQL advisory lock that dies
with the process, so a retry with the same payload takes it over as soon as the owner is gone
and runs the route again (issue 12, defect 4); claims without a lease fall back to
`in_progress_timeout_s`. Routes therefore still pass deterministic references downstream (the
ledger refuses a second posting with the same reference), which makes that re-run harmless.
"""

from clearway.platform.idempotency.middleware import (
    IdempotencyMiddleware,
    engine_from_state,
    require_idempotency_key,
)
from clearway.platform.idempotency.store import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_LENGTH_MAX,
    IN_PROGRESS_TIMEOUT_S,
    KEY_TTL_S,
    REPLAYED_HEADER,
    RESPONSE_BODY_BYTES_MAX,
    Acquired,
    AcquireOutcome,
    IdempotencyStore,
    InProgress,
    KeyReused,
    Replay,
    StoredResponse,
    canonical_body,
    delete_expired_idempotency_keys,
    idempotency_keys,
    is_valid_idempotency_key,
    request_fingerprint,
)

__all__ = [
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENCY_KEY_LENGTH_MAX",
    "IN_PROGRESS_TIMEOUT_S",
    "KEY_TTL_S",
    "REPLAYED_HEADER",
    "RESPONSE_BODY_BYTES_MAX",
    "AcquireOutcome",
    "Acquired",
    "IdempotencyMiddleware",
    "IdempotencyStore",
    "InProgress",
    "KeyReused",
    "Replay",
    "StoredResponse",
    "canonical_body",
    "delete_expired_idempotency_keys",
    "engine_from_state",
    "idempotency_keys",
    "is_valid_idempotency_key",
    "request_fingerprint",
    "require_idempotency_key",
]
