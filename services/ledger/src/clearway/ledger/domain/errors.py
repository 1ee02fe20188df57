"""Domain errors: each carries a stable machine code; the HTTP layer maps them to problem+json."""

from __future__ import annotations


class LedgerError(Exception):
    code = "LEDGER_ERROR"
    http_status = 422

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidRequest(LedgerError):
    code = "VALIDATION_FAILED"
    http_status = 400


class PrecisionLoss(InvalidRequest):
    code = "PRECISION_LOSS"


class DistributionMismatch(InvalidRequest):
    code = "DISTRIBUTION_MISMATCH"


class CurrencyMismatch(LedgerError):
    code = "CURRENCY_MISMATCH"


class NotFound(LedgerError):
    code = "NOT_FOUND"
    http_status = 404


class ReferenceConflict(LedgerError):
    """The reference was used before with a different payload."""

    code = "REFERENCE_REUSED"
    http_status = 409


class StateConflict(LedgerError):
    code = "STATE_CONFLICT"
    http_status = 409


class HoldExceeded(LedgerError):
    code = "HOLD_AMOUNT_EXCEEDED"
    http_status = 422


class AlreadyRefunded(StateConflict):
    code = "ALREADY_REFUNDED"
