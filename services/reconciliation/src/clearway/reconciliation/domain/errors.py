"""Refusals the reconciliation domain raises: an HTTP status and a stable machine `code`."""

from __future__ import annotations

from typing import Any, ClassVar


class ReconciliationError(Exception):
    http_status: ClassVar[int] = 422
    code: ClassVar[str] = "RECONCILIATION_ERROR"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_code = code or self.code
        self.extra = extra


class NotFoundError(ReconciliationError):
    http_status = 404
    code = "NOT_FOUND"


class ConflictError(ReconciliationError):
    http_status = 409
    code = "STATE_CONFLICT"


class InvalidRequestError(ReconciliationError):
    http_status = 422
    code = "INVALID_REQUEST"
