"""The top-up refusals, in the one funding error family: each carries its HTTP status and the
stable code clients branch on (entrypoints/errors.py turns them into problem+json)."""

from __future__ import annotations

from clearway.funding.domain.errors import ConflictError, FundingError, NotFoundError, RuleViolationError


class TopupRefusedError(RuleViolationError):
    """The request breaks a rule (amount, currency, phone number, wallet owner): nothing was sent.

    Raised with a specific code (`CURRENCY_NOT_SUPPORTED`, `WALLET_OWNER_UNKNOWN`, ...) when there is one.
    """

    code = "TOPUP_REFUSED"


class IdentityMismatchError(RuleViolationError):
    """An end user named a wallet owner other than themselves: users top up only their own wallet."""

    code = "IDENTITY_MISMATCH"


class TopupNotFoundError(NotFoundError):
    code = "TOPUP_NOT_FOUND"


class UnknownCheckoutError(NotFoundError):
    """A provider answer names a CheckoutRequestID no intent carries (yet)."""

    code = "TOPUP_CHECKOUT_UNKNOWN"


class ConflictingOutcomeError(ConflictError):
    """The provider reported an outcome that contradicts the one already recorded."""

    code = "TOPUP_OUTCOME_CONFLICT"


class ProviderReferenceConflictError(FundingError):
    """The provider answered with a request id another top-up already holds.

    The push went out, so the intent stays pending for reconciliation by hand; the caller gets a
    clear error instead of a unique-constraint 500 (issue 12, defect 1).
    """

    http_status = 502
    code = "PROVIDER_REFERENCE_CONFLICT"


class CallbackRejectedError(FundingError):
    """The callback did not present the provider's secret token."""

    http_status = 401
    code = "CALLBACK_REJECTED"


class CallbackInvalidError(FundingError):
    """The callback body is not a well-formed provider callback."""

    http_status = 400
    code = "CALLBACK_INVALID"


class TopupLedgerUnavailableError(FundingError):
    """The ledger did not answer (after bounded retries): nothing is known to have changed; retry later."""

    http_status = 503
    code = "LEDGER_UNAVAILABLE"


class TopupLedgerRefusedError(FundingError):
    """The ledger answered and refused (a bug or a misconfiguration, never a customer error)."""

    http_status = 502
    code = "LEDGER_REFUSED"
