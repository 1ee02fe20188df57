"""HTTP shapes of withdrawals, payment intents, approval requests, settings and batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from clearway.payout.domain.approvals import ApprovalStatus, AuditEntry
from clearway.payout.domain.batches import BatchStatus
from clearway.payout.domain.limits import CurrencyLimits
from clearway.payout.domain.withdrawals import PaymentIntent, Withdrawal, WithdrawalStatus
from clearway.payout.entrypoints.schemas_withdrawal_methods import IDENTITY_ID_FIELD
from clearway.payout.service.approvals import ApprovalView
from clearway.payout.service.batches import BatchSummary, BatchView
from clearway.payout.service.withdrawals import WalletLine, WithdrawalResult
from clearway.platform.money import AMOUNT_MINOR_MAX
from clearway.platform.pagination import PageParams

CURRENCY_FIELD = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, upper case.")


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawal_method_id: str = Field(min_length=1, max_length=100)
    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX, description="Minor units (KES cents, EUR cents).")
    currency: str = CURRENCY_FIELD
    identity_id: str | None = IDENTITY_ID_FIELD


class WithdrawalListParams(PageParams):
    status: WithdrawalStatus | None = None
    user_id: str | None = Field(default=None, max_length=200, description="Operators only: one user's withdrawals.")


class WithdrawalOut(BaseModel):
    id: str
    user_id: str
    withdrawal_method_id: str | None
    method_type: str
    provider: str
    amount_minor: int
    currency: str
    status: WithdrawalStatus
    payment_intent_id: str
    origin: str
    payable_id: str | None
    receipt: str | None
    failure_code: str | None
    failure_reason: str | None
    batch_id: str | None
    approved_by: str | None
    approved_at: datetime | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, withdrawal: Withdrawal) -> WithdrawalOut:
        return cls(
            id=withdrawal.id,
            user_id=withdrawal.user_id,
            withdrawal_method_id=withdrawal.withdrawal_method_id,
            method_type=withdrawal.method_type,
            provider=withdrawal.provider,
            amount_minor=withdrawal.amount_minor,
            currency=withdrawal.currency,
            status=withdrawal.status,
            payment_intent_id=withdrawal.payment_intent_id,
            origin=withdrawal.origin.value,
            payable_id=withdrawal.payable_id,
            receipt=withdrawal.receipt,
            failure_code=withdrawal.failure_code,
            failure_reason=withdrawal.failure_reason,
            batch_id=withdrawal.batch_id,
            approved_by=withdrawal.approved_by,
            approved_at=withdrawal.approved_at,
            submitted_at=withdrawal.submitted_at,
            created_at=withdrawal.created_at,
            updated_at=withdrawal.updated_at,
        )


class PaymentIntentOut(BaseModel):
    id: str
    purpose: str
    amount_minor: int
    currency: str
    status: str
    provider_method: str | None
    provider_reference: str | None
    receipt: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, intent: PaymentIntent) -> PaymentIntentOut:
        return cls(
            id=intent.id,
            purpose=intent.purpose,
            amount_minor=intent.amount_minor,
            currency=intent.currency,
            status=intent.status.value,
            provider_method=intent.provider_method,
            provider_reference=intent.provider_reference,
            receipt=intent.receipt,
            created_at=intent.created_at,
            updated_at=intent.updated_at,
        )


class WithdrawalWithIntentOut(BaseModel):
    """Seed 001's answer: the withdrawal and the payment intent linked to it."""

    withdrawal: WithdrawalOut
    payment_intent: PaymentIntentOut

    @classmethod
    def from_result(cls, result: WithdrawalResult) -> WithdrawalWithIntentOut:
        return cls(
            withdrawal=WithdrawalOut.from_domain(result.withdrawal),
            payment_intent=PaymentIntentOut.from_domain(result.intent),
        )


class WalletLineOut(BaseModel):
    currency: str
    balance_minor: int
    reserved_minor: int
    spendable_minor: int

    @classmethod
    def from_domain(cls, line: WalletLine) -> WalletLineOut:
        return cls(
            currency=line.currency,
            balance_minor=line.balance_minor,
            reserved_minor=line.reserved_minor,
            spendable_minor=line.spendable_minor,
        )


class WalletOut(BaseModel):
    data: list[WalletLineOut]


class AuditEntryOut(BaseModel):
    action: str
    actor: str
    actor_roles: list[str]
    at: datetime
    detail: dict[str, Any]

    @classmethod
    def from_domain(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            action=entry.action,
            actor=entry.actor,
            actor_roles=list(entry.actor_roles),
            at=entry.at,
            detail=entry.detail,
        )


class ApprovalRequestOut(BaseModel):
    id: str
    withdrawal_id: str
    status: ApprovalStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    withdrawal: WithdrawalOut | None = None
    audit: list[AuditEntryOut] = Field(default_factory=list)

    @classmethod
    def from_view(cls, view: ApprovalView) -> ApprovalRequestOut:
        request = view.request
        return cls(
            id=request.id,
            withdrawal_id=request.withdrawal_id,
            status=request.status,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            reason=request.reason,
            withdrawal=WithdrawalOut.from_domain(view.withdrawal),
            audit=[AuditEntryOut.from_domain(entry) for entry in view.audit],
        )


class ApprovalListParams(PageParams):
    status: ApprovalStatus | None = None


class RejectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class CurrencyLimitsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)
    max_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)
    daily_max_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)
    auto_approve_max_minor: StrictInt = Field(default=0, ge=0, le=AMOUNT_MINOR_MAX)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limits: dict[str, CurrencyLimitsIn] = Field(min_length=1, max_length=50)


class SettingsOut(BaseModel):
    limits: dict[str, CurrencyLimitsIn]

    @classmethod
    def of(cls, limits: dict[str, CurrencyLimits]) -> SettingsOut:
        return cls(
            limits={
                currency: CurrencyLimitsIn(
                    min_minor=value.min_minor,
                    max_minor=value.max_minor,
                    daily_max_minor=value.daily_max_minor,
                    auto_approve_max_minor=value.auto_approve_max_minor,
                )
                for currency, value in sorted(limits.items())
            }
        )


class PayoutBatchOut(BaseModel):
    id: str
    currency: str
    status: BatchStatus
    message_id: str | None
    submitted_at: datetime | None
    created_at: datetime
    withdrawal_ids: list[str] = Field(
        default_factory=list, description="The batch's withdrawals (empty in a list: read the batch for them)."
    )
    total_minor: int | None = Field(default=None, description="The sum of the batch's withdrawals, in minor units.")
    count: int | None = Field(default=None, description="How many withdrawals the batch holds.")

    @classmethod
    def from_summary(cls, summary: BatchSummary) -> PayoutBatchOut:
        batch = summary.batch
        return cls(
            id=batch.id,
            currency=batch.currency,
            status=batch.status,
            message_id=batch.message_id,
            submitted_at=batch.submitted_at,
            created_at=batch.created_at,
            total_minor=summary.totals.total_minor,
            count=summary.totals.count,
        )

    @classmethod
    def from_view(cls, view: BatchView) -> PayoutBatchOut:
        batch = view.batch
        return cls(
            id=batch.id,
            currency=batch.currency,
            status=batch.status,
            message_id=batch.message_id,
            submitted_at=batch.submitted_at,
            created_at=batch.created_at,
            withdrawal_ids=[withdrawal.id for withdrawal in view.withdrawals],
            total_minor=view.total_minor,
            count=len(view.withdrawals),
        )


class BatchSettlementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank_reference: str | None = Field(default=None, max_length=100)
    failed: dict[str, str] = Field(
        default_factory=dict, max_length=1_000, description="Withdrawal id -> the bank's reason, for lines it refused."
    )
