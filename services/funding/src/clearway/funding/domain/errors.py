"""Refusals the funding domain raises. They carry an HTTP status and a stable machine code, but
no web framework: the entrypoints turn them into problem+json answers."""

from __future__ import annotations

from typing import Any, ClassVar


class FundingError(Exception):
    http_status: ClassVar[int] = 422
    code: ClassVar[str] = "FUNDING_ERROR"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_code = code or self.code
        self.extra = extra


class NotFoundError(FundingError):
    http_status = 404
    code = "NOT_FOUND"


class IllegalTransitionError(FundingError):
    """The resource is in a state that does not allow the action; `current_status` tells which."""

    http_status = 409
    code = "ILLEGAL_STATE_TRANSITION"

    def __init__(self, entity: str, entity_id: str, action: str, current_status: str) -> None:
        super().__init__(
            f"Cannot {action} {entity} {entity_id}: it is {current_status}.",
            entity_id=entity_id,
            action=action,
            current_status=current_status,
        )


class ConflictError(FundingError):
    http_status = 409
    code = "STATE_CONFLICT"


class RuleViolationError(FundingError):
    http_status = 422
    code = "BUSINESS_RULE_VIOLATION"


class IdempotencyKeyReusedError(RuleViolationError):
    """An Idempotency-Key already used for a different request (a top-up, a funding)."""

    code = "IDEMPOTENCY_KEY_REUSED"
