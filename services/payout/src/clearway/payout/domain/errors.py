"""Refusals the payout domain raises: an HTTP status and a stable machine `code`, no web framework.

Seed 001 answers business refusals (limits, insufficient funds, a terminal withdrawal) with 430;
those carry `business = True` so the entrypoints can answer them with the configured status
(422 by default, 430 for clients written against the seed).
"""

from __future__ import annotations

from typing import Any, ClassVar


class PayoutError(Exception):
    http_status: ClassVar[int] = 422
    code: ClassVar[str] = "PAYOUT_ERROR"
    business: ClassVar[bool] = False

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_code = code or self.code
        self.extra = extra


class NotFoundError(PayoutError):
    """Unknown, or not the caller's: another user's resource is indistinguishable from none."""

    http_status = 404
    code = "NOT_FOUND"


class ConflictError(PayoutError):
    http_status = 409
    code = "STATE_CONFLICT"


class ForbiddenError(PayoutError):
    http_status = 403
    code = "FORBIDDEN"


class InvalidRequestError(PayoutError):
    """The request itself is malformed in a way the schema cannot say (a bad IBAN, a phone number)."""

    http_status = 422
    code = "INVALID_REQUEST"


class BusinessRuleError(PayoutError):
    """Seed 001's business exceptions: limits, funds, terminal states."""

    http_status = 422
    code = "BUSINESS_RULE_VIOLATION"
    business = True


class IdempotencyKeyReusedError(PayoutError):
    http_status = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class ProviderUnavailableError(PayoutError):
    http_status = 503
    code = "PROVIDER_UNAVAILABLE"
