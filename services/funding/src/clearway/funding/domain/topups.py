"""Wallet top-ups by mobile money: a payment intent and the transitions the provider's answers drive.

A top-up starts `pending` when the customer's phone is prompted (STK push). It ends exactly once:
`succeeded` when the provider reports payment and the wallet is credited, `failed` when the
customer declines, cannot be reached, or the provider refuses the push. The provider may answer
twice (a duplicate callback, or a callback after a status query already settled it): an answer
that agrees with the recorded outcome changes nothing; one that disagrees is a conflict to alert
on, never a second effect.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clearway.funding.domain.topup_errors import IdentityMismatchError

TOPUP_ID_PREFIX = "top"
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
E164_PATTERN = re.compile(r"^\+[1-9]\d{6,14}$")
SUCCESS_RESULT_CODE = 0
LEDGER_REFERENCE_PREFIX = "topup:"
ACCOUNT_REFERENCE_PREFIX = "TU"
ACCOUNT_REFERENCE_LENGTH = 12  # M-Pesa's AccountReference limit


class TopupStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ResolvedBy(StrEnum):
    PUSH = "push"  # the provider refused the push itself: nothing reached the phone
    CALLBACK = "callback"
    STATUS_QUERY = "status_query"  # the callback never came; we asked


class Delivery(StrEnum):
    """How an answer from the provider relates to what the intent already records."""

    APPLY = "apply"
    DUPLICATE = "duplicate"
    CONFLICTING = "conflicting"


@dataclass(frozen=True, slots=True)
class TopupPolicy:
    """When to ask the provider about a missing callback, and what the configured rail collects."""

    status_query_after_ms: int = 30_000
    status_query_interval_ms: int = 15_000
    status_queries_max: int = 20
    default_currency: str = "KES"
    currencies: frozenset[str] = frozenset({"KES"})
    phone_default_region: str = "KE"

    def __post_init__(self) -> None:
        assert self.status_query_after_ms >= 0 and self.status_query_interval_ms > 0
        assert self.status_queries_max >= 1
        assert self.default_currency in self.currencies


@dataclass(frozen=True, slots=True)
class StartTopup:
    """Command: prompt `phone` to pay `amount_minor` `currency` into `identity_id`'s wallet."""

    workspace_id: str
    identity_id: str
    amount_minor: int
    currency: str
    phone: str  # E.164
    idempotency_key: str

    def __post_init__(self) -> None:
        assert self.workspace_id and self.identity_id and self.idempotency_key
        assert self.amount_minor > 0, "a top-up moves a positive amount of minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert E164_PATTERN.match(self.phone), "phone must be normalised to E.164 first"

    def same_request_as(self, topup: Topup) -> bool:
        """A retry under the same key must ask for the same thing."""
        return (topup.identity_id, topup.amount_minor, topup.currency, topup.phone) == (
            self.identity_id,
            self.amount_minor,
            self.currency,
            self.phone,
        )


@dataclass(frozen=True, slots=True)
class ProviderOutcome:
    """The customer's final answer, from a callback or a status query (provider types stay outside)."""

    succeeded: bool
    result_code: int | None
    result_desc: str
    failure_reason: str | None = None
    receipt: str | None = None
    amount_minor: int | None = None  # None when the provider does not echo it (status queries)
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.succeeded:
            assert self.result_code == SUCCESS_RESULT_CODE, "a success carries result code 0"
            assert self.failure_reason is None
        else:
            assert self.result_code != SUCCESS_RESULT_CODE, "a failure cannot carry the success code"
            assert self.failure_reason, "a failure says why"


@dataclass(frozen=True, slots=True)
class Topup:
    id: str
    workspace_id: str
    identity_id: str
    wallet_balance_id: str
    amount_minor: int
    currency: str
    phone: str
    provider: str
    account_reference: str
    idempotency_key: str
    status: TopupStatus
    checkout_request_id: str | None
    merchant_request_id: str | None
    result_code: int | None
    result_desc: str | None
    failure_reason: str | None
    receipt: str | None
    ledger_reference: str | None
    ledger_transaction_id: str | None
    callback_fingerprint: str | None
    resolved_by: ResolvedBy | None
    status_checks: int
    next_status_check_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{TOPUP_ID_PREFIX}_"), f"not a top-up id: {self.id!r}"
        assert self.amount_minor > 0, "a top-up moves a positive amount"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert E164_PATTERN.match(self.phone), "phones are stored in E.164"
        assert self.status_checks >= 0
        assert self.account_reference == account_reference_for(self.id)
        assert self.updated_at >= self.created_at, "a top-up cannot change before it exists"
        # Money reached the wallet exactly when the intent succeeded.
        assert (self.status is TopupStatus.SUCCEEDED) == (self.ledger_reference is not None)
        assert (self.status is TopupStatus.PENDING) == (self.resolved_by is None)
        if self.status is TopupStatus.FAILED:
            assert self.failure_reason and self.result_desc, "a failed top-up says why"
        if self.status is not TopupStatus.PENDING:
            assert self.next_status_check_at is None, "only pending top-ups are checked"

    @property
    def is_final(self) -> bool:
        return self.status is not TopupStatus.PENDING

    def ledger_reference_for_credit(self) -> str:
        """Deterministic, so a retried or replayed credit is one ledger transaction."""
        return f"{LEDGER_REFERENCE_PREFIX}{self.id}"


def wallet_owner_for_user(user_id: str, requested_identity_id: str | None) -> str:
    """An end user's top-up goes to their own wallet; naming another identity is refused, not ignored."""
    if requested_identity_id is not None and requested_identity_id != user_id:
        raise IdentityMismatchError("identity_id must be the signed-in user's own identity (or be omitted).")
    return user_id


def scoped_idempotency_key(user_id: str | None, key: str) -> str:
    """End users share their workspace, so each user's keys are kept apart: one user's key can neither
    replay nor block another's top-up. API-key callers keep their keys as sent."""
    return key if user_id is None else f"user:{user_id}:{key}"


def owned_by(topup: Topup, user_id: str | None) -> bool:
    """Whether the caller may see `topup`: an end user only their own wallet's, others any in the workspace."""
    return user_id is None or topup.identity_id == user_id


def account_reference_for(topup_id: str) -> str:
    """The reference the customer's prompt and the provider's statement show: short enough for
    M-Pesa (12), and unique in practice (the id's last 10 characters are 50 random bits)."""
    assert topup_id.startswith(f"{TOPUP_ID_PREFIX}_")
    suffix_length = ACCOUNT_REFERENCE_LENGTH - len(ACCOUNT_REFERENCE_PREFIX)
    return f"{ACCOUNT_REFERENCE_PREFIX}{topup_id[-suffix_length:].upper()}"


def new_topup(
    command: StartTopup,
    *,
    topup_id: str,
    wallet_balance_id: str,
    provider: str,
    now: datetime,
    first_status_check_at: datetime,
) -> Topup:
    assert first_status_check_at >= now
    return Topup(
        id=topup_id,
        workspace_id=command.workspace_id,
        identity_id=command.identity_id,
        wallet_balance_id=wallet_balance_id,
        amount_minor=command.amount_minor,
        currency=command.currency,
        phone=command.phone,
        provider=provider,
        account_reference=account_reference_for(topup_id),
        idempotency_key=command.idempotency_key,
        status=TopupStatus.PENDING,
        checkout_request_id=None,
        merchant_request_id=None,
        result_code=None,
        result_desc=None,
        failure_reason=None,
        receipt=None,
        ledger_reference=None,
        ledger_transaction_id=None,
        callback_fingerprint=None,
        resolved_by=None,
        status_checks=0,
        next_status_check_at=first_status_check_at,
        created_at=now,
        updated_at=now,
    )


def push_accepted(
    topup: Topup, *, checkout_request_id: str, merchant_request_id: str, now: datetime, first_status_check_at: datetime
) -> Topup:
    """The phone was prompted; the answer comes by callback, or by a status query after the timeout."""
    assert topup.status is TopupStatus.PENDING and topup.checkout_request_id is None, "a top-up is pushed once"
    assert checkout_request_id
    return dataclasses.replace(
        topup,
        checkout_request_id=checkout_request_id,
        merchant_request_id=merchant_request_id,
        # Counted from the accepted push, also when a slow push outlived the first deadline.
        next_status_check_at=first_status_check_at,
        updated_at=max(now, topup.updated_at),
    )


def push_refused(topup: Topup, *, failure_reason: str, result_desc: str, now: datetime) -> Topup:
    """The provider refused the push: nothing reached the phone, so nothing can be paid."""
    assert topup.status is TopupStatus.PENDING and topup.checkout_request_id is None
    return dataclasses.replace(
        topup,
        status=TopupStatus.FAILED,
        failure_reason=failure_reason,
        result_desc=result_desc,
        resolved_by=ResolvedBy.PUSH,
        next_status_check_at=None,
        updated_at=max(now, topup.updated_at),
    )


def classify(topup: Topup, outcome: ProviderOutcome) -> Delivery:
    """Apply a first answer; acknowledge one that agrees; flag one that contradicts the record."""
    if topup.status is TopupStatus.PENDING:
        if outcome.succeeded and not _amount_matches(topup, outcome):
            return Delivery.CONFLICTING  # paid, but not what we asked: reconcile by hand, credit nothing
        return Delivery.APPLY
    if topup.status is TopupStatus.SUCCEEDED:
        same_receipt = outcome.receipt is None or topup.receipt is None or outcome.receipt == topup.receipt
        agrees = outcome.succeeded and same_receipt and _amount_matches(topup, outcome)
        return Delivery.DUPLICATE if agrees else Delivery.CONFLICTING
    agrees = not outcome.succeeded and outcome.result_code == topup.result_code
    return Delivery.DUPLICATE if agrees else Delivery.CONFLICTING


def _amount_matches(topup: Topup, outcome: ProviderOutcome) -> bool:
    amount_ok = outcome.amount_minor is None or outcome.amount_minor == topup.amount_minor
    currency_ok = outcome.currency is None or outcome.currency == topup.currency
    return amount_ok and currency_ok


def settle(
    topup: Topup,
    outcome: ProviderOutcome,
    *,
    resolved_by: ResolvedBy,
    now: datetime,
    ledger_transaction_id: str | None = None,
    callback_fingerprint: str | None = None,
) -> Topup:
    """The one transition out of `pending` on a provider answer (callback or status query)."""
    assert topup.status is TopupStatus.PENDING, "a top-up is settled once"
    assert classify(topup, outcome) is Delivery.APPLY
    assert resolved_by is not ResolvedBy.PUSH
    succeeded = outcome.succeeded
    return dataclasses.replace(
        topup,
        status=TopupStatus.SUCCEEDED if succeeded else TopupStatus.FAILED,
        result_code=outcome.result_code,
        result_desc=outcome.result_desc,
        failure_reason=outcome.failure_reason,
        receipt=outcome.receipt,
        ledger_reference=topup.ledger_reference_for_credit() if succeeded else None,
        ledger_transaction_id=ledger_transaction_id if succeeded else None,
        callback_fingerprint=callback_fingerprint,
        resolved_by=resolved_by,
        next_status_check_at=None,
        updated_at=max(now, topup.updated_at),
    )


def status_checked(topup: Topup, *, now: datetime, next_check_at: datetime | None) -> Topup:
    """A status query is (about to be) sent: count it and push the next one out (None: stop asking)."""
    assert topup.status is TopupStatus.PENDING
    return dataclasses.replace(
        topup,
        status_checks=topup.status_checks + 1,
        next_status_check_at=next_check_at,
        updated_at=max(now, topup.updated_at),
    )


def stop_checking(topup: Topup, *, now: datetime) -> Topup:
    """Nothing left to ask the provider (unknown push outcome, or the query budget is spent)."""
    assert topup.status is TopupStatus.PENDING
    return dataclasses.replace(topup, next_status_check_at=None, updated_at=max(now, topup.updated_at))
