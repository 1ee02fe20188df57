"""Refusals the authorization domain raises: an HTTP status and a stable machine `code`, no web framework.

A declined authorization is not an error: it is a decision with a reason, answered 201 like an
approval. These are for requests that cannot be acted on at all (an unknown account, a PAN, a
reversal larger than what is held).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AuthorizationError(Exception):
    http_status: ClassVar[int] = 422
    code: ClassVar[str] = "AUTHORIZATION_ERROR"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_code = code or self.code
        self.extra = extra


class NotFoundError(AuthorizationError):
    http_status = 404
    code = "NOT_FOUND"


class ConflictError(AuthorizationError):
    http_status = 409
    code = "STATE_CONFLICT"


class InProgressError(ConflictError):
    """The authorization is in a passing state (being decided, raised or reversed): retry shortly.

    Answered with `Retry-After`, which also tells the platform's Idempotency-Key store not to keep
    this answer as the key's final one: the same request retried a moment later is acted on.
    """

    retry_after_s: ClassVar[int] = 1


class RuleViolationError(AuthorizationError):
    """The request is well formed but a rule refuses it (a PAN, an expiry in the past, a currency)."""

    http_status = 422
    code = "RULE_VIOLATION"


class NotAcceptableError(AuthorizationError):
    """The caller accepts none of the representations a resource has (a statement is JSON or PDF)."""

    http_status = 406
    code = "NOT_ACCEPTABLE"
