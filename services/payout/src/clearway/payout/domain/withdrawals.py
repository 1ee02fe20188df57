r"""Withdrawals and their payment intents (seed 001), with every transition they may make.

    reserving -> pending_approval -> approved -> processing -> succeeded -> reversed
                                  \-> rejected              \-> failed

`reserving` is the short window in which the ledger hold is being placed: the row exists first
so a crash there is recovered by reference (the hold is adopted), and a refused hold removes it.
The ledger effect of a decision (commit, void, reversal) follows the decision and is tracked by
`hold_status`, so a periodic pass can finish what a crash interrupted: no hold outlives its
withdrawal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from clearway.payout.domain.errors import BusinessRuleError, ConflictError

WITHDRAWAL_ID_PREFIX = "wd"
PAYMENT_INTENT_ID_PREFIX = "pi"


class WithdrawalStatus(StrEnum):
    RESERVING = "reserving"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REVERSED = "reversed"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        """Counts towards the daily limit and holds money (everything but refusals and failures)."""
        return self not in (WithdrawalStatus.FAILED, WithdrawalStatus.REJECTED)


TERMINAL = frozenset(
    {WithdrawalStatus.SUCCEEDED, WithdrawalStatus.FAILED, WithdrawalStatus.REVERSED, WithdrawalStatus.REJECTED}
)
# Shown to users: `reserving` is an implementation detail of placing the hold.
VISIBLE = tuple(status for status in WithdrawalStatus if status is not WithdrawalStatus.RESERVING)


class HoldStatus(StrEnum):
    NONE = "none"  # not placed yet
    INFLIGHT = "inflight"
    COMMITTED = "committed"  # and settled to the provider's balance
    VOIDED = "voided"
    REVERSED = "reversed"  # the reversing transaction is posted


class IntentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Origin(StrEnum):
    USER = "user"  # POST /api/v1/payments/withdrawals
    PAYABLE = "payable"  # funding's payable.paid


@dataclass(frozen=True, slots=True)
class RequestWithdrawal:
    user_id: str
    withdrawal_method_id: str
    amount_minor: int
    currency: str
    idempotency_key: str

    def same_request_as(self, withdrawal: Withdrawal) -> bool:
        return (self.withdrawal_method_id, self.amount_minor, self.currency) == (
            withdrawal.withdrawal_method_id,
            withdrawal.amount_minor,
            withdrawal.currency,
        )


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    user_id: str
    purpose: str
    amount_minor: int
    currency: str
    status: IntentStatus
    provider_method: str | None
    provider_reference: str | None
    receipt: str | None
    created_at: datetime
    updated_at: datetime

    def settled(self, status: IntentStatus, now: datetime, *, receipt: str | None = None) -> PaymentIntent:
        return replace(self, status=status, receipt=receipt or self.receipt, updated_at=max(now, self.created_at))


@dataclass(frozen=True, slots=True)
class Withdrawal:
    id: str
    user_id: str
    withdrawal_method_id: str | None
    method_type: str
    provider: str
    amount_minor: int
    currency: str
    status: WithdrawalStatus
    hold_status: HoldStatus
    idempotency_key: str
    payment_intent_id: str
    origin: Origin
    created_at: datetime
    updated_at: datetime
    payable_id: str | None = None
    hold_transaction_id: str | None = None
    provider_reference: str | None = None  # our OriginatorConversationID / end-to-end id
    provider_conversation_id: str | None = None
    receipt: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    batch_id: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    submitted_at: datetime | None = None
    status_checks: int = 0
    next_status_check_at: datetime | None = None

    def __post_init__(self) -> None:
        assert self.amount_minor > 0, "a withdrawal moves a positive amount"
        assert self.updated_at >= self.created_at, "a withdrawal cannot change before it exists"

    def _moved(self, status: WithdrawalStatus, now: datetime, **changes: object) -> Withdrawal:
        return replace(self, status=status, updated_at=max(now, self.created_at), **changes)  # type: ignore[arg-type]

    def reserved(self, hold_transaction_id: str, now: datetime) -> Withdrawal:
        self._require(WithdrawalStatus.RESERVING, action="reserve")
        return self._moved(
            WithdrawalStatus.PENDING_APPROVAL,
            now,
            hold_status=HoldStatus.INFLIGHT,
            hold_transaction_id=hold_transaction_id,
        )

    def approved(self, approver: str, now: datetime) -> Withdrawal:
        self._require(WithdrawalStatus.PENDING_APPROVAL, action="approve")
        return self._moved(WithdrawalStatus.APPROVED, now, approved_by=approver, approved_at=now)

    def rejected(self, reason: str, now: datetime) -> Withdrawal:
        self._require(WithdrawalStatus.PENDING_APPROVAL, action="reject")
        return self._moved(WithdrawalStatus.REJECTED, now, failure_code="REJECTED", failure_reason=reason)

    def submitted(
        self, now: datetime, *, conversation_id: str | None, next_status_check_at: datetime | None
    ) -> Withdrawal:
        self._require(WithdrawalStatus.APPROVED, action="submit")
        return self._moved(
            WithdrawalStatus.PROCESSING,
            now,
            provider_conversation_id=conversation_id,
            submitted_at=now,
            next_status_check_at=next_status_check_at,
        )

    def resubmitted(self, now: datetime, *, conversation_id: str, next_status_check_at: datetime) -> Withdrawal:
        """Sent again under the same id after the rail said it holds no such payment: a new
        submission, so its status queries start again."""
        self._require(WithdrawalStatus.PROCESSING, action="resubmit")
        return self._moved(
            WithdrawalStatus.PROCESSING,
            now,
            provider_conversation_id=conversation_id,
            submitted_at=now,
            status_checks=0,
            next_status_check_at=next_status_check_at,
        )

    def batched(self, batch_id: str, now: datetime) -> Withdrawal:
        self._require(WithdrawalStatus.APPROVED, action="batch")
        return self._moved(WithdrawalStatus.PROCESSING, now, batch_id=batch_id, submitted_at=now)

    def succeeded(self, receipt: str | None, now: datetime) -> Withdrawal:
        # APPROVED too: a fast rail's callback can arrive before `submitted` is committed.
        if self.status is WithdrawalStatus.APPROVED:
            return self._moved(WithdrawalStatus.SUCCEEDED, now, receipt=receipt, next_status_check_at=None)
        self._require(WithdrawalStatus.PROCESSING, action="settle")
        return self._moved(WithdrawalStatus.SUCCEEDED, now, receipt=receipt, next_status_check_at=None)

    def failed(self, code: str, reason: str, now: datetime) -> Withdrawal:
        if self.status not in (WithdrawalStatus.APPROVED, WithdrawalStatus.PROCESSING):
            raise ConflictError(
                f"Withdrawal {self.id} is {self.status.value}; it cannot fail now.", current_status=self.status.value
            )
        return self._moved(
            WithdrawalStatus.FAILED, now, failure_code=code, failure_reason=reason[:500], next_status_check_at=None
        )

    def reversed(self, reason: str, now: datetime) -> Withdrawal:
        self._require(WithdrawalStatus.SUCCEEDED, action="reverse")
        return self._moved(WithdrawalStatus.REVERSED, now, failure_code="REVERSED", failure_reason=reason[:500])

    def status_check_scheduled(self, next_at: datetime | None, now: datetime) -> Withdrawal:
        return replace(
            self,
            status_checks=self.status_checks + 1,
            next_status_check_at=next_at,
            updated_at=max(now, self.created_at),
        )

    def status_check_due(self, at: datetime) -> Withdrawal:
        """A timeout notice came: ask the rail now instead of waiting for the scheduled query."""
        return replace(self, next_status_check_at=at, updated_at=max(at, self.created_at))

    def hold_settled(self, hold_status: HoldStatus, now: datetime) -> Withdrawal:
        return replace(self, hold_status=hold_status, updated_at=max(now, self.created_at))

    def hold_due(self) -> HoldStatus | None:
        """The ledger state this withdrawal's decision calls for, when the ledger is not there yet."""
        wanted = {
            WithdrawalStatus.SUCCEEDED: HoldStatus.COMMITTED,
            WithdrawalStatus.FAILED: HoldStatus.VOIDED,
            WithdrawalStatus.REJECTED: HoldStatus.VOIDED,
            WithdrawalStatus.REVERSED: HoldStatus.REVERSED,
        }.get(self.status)
        if wanted is None or wanted is self.hold_status:
            return None
        if self.hold_status is HoldStatus.NONE:
            return None  # nothing was ever reserved (a payout refused before its hold)
        return wanted

    def _require(self, wanted: WithdrawalStatus, *, action: str) -> None:
        if self.status is wanted:
            return
        if self.status.is_terminal:
            raise BusinessRuleError(
                f"Withdrawal {self.id} is already {self.status.value}.",
                code="WITHDRAWAL_TERMINAL",
                current_status=self.status.value,
            )
        raise ConflictError(
            f"Cannot {action} withdrawal {self.id}: it is {self.status.value}.",
            code="ILLEGAL_STATE_TRANSITION",
            current_status=self.status.value,
        )


def new_withdrawal(
    *,
    withdrawal_id: str,
    intent_id: str,
    user_id: str,
    method_id: str | None,
    method_type: str,
    provider: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    origin: Origin,
    now: datetime,
    payable_id: str | None = None,
) -> tuple[Withdrawal, PaymentIntent]:
    """Seed 001: a payment intent (purpose withdrawal, pending) and the withdrawal linked to it."""
    intent = PaymentIntent(
        id=intent_id,
        user_id=user_id,
        purpose="withdrawal",
        amount_minor=amount_minor,
        currency=currency,
        status=IntentStatus.PENDING,
        provider_method=provider,
        provider_reference=withdrawal_id,
        receipt=None,
        created_at=now,
        updated_at=now,
    )
    withdrawal = Withdrawal(
        id=withdrawal_id,
        user_id=user_id,
        withdrawal_method_id=method_id,
        method_type=method_type,
        provider=provider,
        amount_minor=amount_minor,
        currency=currency,
        status=WithdrawalStatus.RESERVING,
        hold_status=HoldStatus.NONE,
        idempotency_key=idempotency_key,
        payment_intent_id=intent_id,
        origin=origin,
        payable_id=payable_id,
        provider_reference=withdrawal_id,
        created_at=now,
        updated_at=now,
    )
    return withdrawal, intent


@dataclass(frozen=True, slots=True)
class PaidOut:
    receipt: str | None


@dataclass(frozen=True, slots=True)
class NotPaid:
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReversedByProvider:
    receipt: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class StillPending:
    pass


# What a rail (a B2C callback, a status query, a bank's answer) says became of a payout.
PayoutOutcome = PaidOut | NotPaid | ReversedByProvider | StillPending
