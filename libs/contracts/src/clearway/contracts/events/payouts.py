"""Withdrawal and payout events, published by payout (seed 001's money-out path).

A withdrawal is asked for (`withdrawal.requested`, its money reserved by a ledger hold), approved
or rejected by two different principals, submitted to a rail (`payout.submitted`) and ends paid
(`payout.succeeded`), failed (`payout.failed`, the hold voided) or, after success, reversed by
the provider (`payout.reversed`, the money back in the wallet). Account numbers appear masked only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .primitives import AmountMinor, ContractModel, CurrencyCode, Timestamp

WithdrawalOrigin = Literal["user", "payable"]


class WithdrawalEvent(ContractModel):
    """Fields every withdrawal and payout event shares."""

    withdrawal_id: str = Field(min_length=1)
    payment_intent_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1, description="The wallet owner (a ledger identity id).")
    amount_minor: AmountMinor
    currency: CurrencyCode
    status: str = Field(min_length=1, description="The withdrawal's status after this change.")
    method_type: str = Field(min_length=1, description="`mobile_money` or `bank_account`.")
    provider: str = Field(min_length=1, description="The rail paying it out, e.g. `sandbox`, `daraja`, `sepa`.")
    account_number_masked: str | None = Field(default=None, description="Where it is paid, masked.")
    origin: WithdrawalOrigin = Field(description="Asked for by the user, or paying out a paid payable.")
    payable_id: str | None = Field(default=None, description="The payable it pays out (origin `payable`).")
    occurred_at: Timestamp


class WithdrawalRequested(WithdrawalEvent):
    """The money is reserved in the wallet and the withdrawal awaits approval."""


class WithdrawalApproved(WithdrawalEvent):
    approved_by: str = Field(min_length=1, description="The second principal (or the auto-approval rule).")


class WithdrawalRejected(WithdrawalEvent):
    rejected_by: str = Field(min_length=1)
    reason: str | None = None


class PayoutSubmitted(WithdrawalEvent):
    provider_reference: str = Field(min_length=1, description="Our id at the provider (OriginatorConversationID).")
    batch_id: str | None = Field(default=None, description="The bank payout batch (pain.001) it travels in.")


class PayoutSucceeded(WithdrawalEvent):
    receipt: str | None = Field(default=None, description="The provider's receipt or transaction id.")


class PayoutFailed(WithdrawalEvent):
    failure_code: str = Field(min_length=1)
    reason: str | None = None


class PayoutReversed(WithdrawalEvent):
    reason: str | None = None
