"""The payout domain without I/O: limits in seed 001's order, withdrawal transitions, what the
ledger owes each decision, dual approval and the primary-method rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clearway.payout.domain.approvals import Actor, ApprovalRequest, ApprovalStatus
from clearway.payout.domain.errors import BusinessRuleError, ConflictError, ForbiddenError, InvalidRequestError
from clearway.payout.domain.limits import DEFAULT_LIMITS, CurrencyLimits, check_amount
from clearway.payout.domain.withdrawal_methods import MethodType, NewWithdrawalMethod, new_method
from clearway.payout.domain.withdrawals import HoldStatus, Origin, Withdrawal, WithdrawalStatus, new_withdrawal

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LIMITS = CurrencyLimits(min_minor=100, max_minor=1_000, daily_max_minor=1_500)


def _withdrawal() -> Withdrawal:
    withdrawal, _ = new_withdrawal(
        withdrawal_id="wd_1",
        intent_id="pi_1",
        user_id="usr_1",
        method_id="wdm_1",
        method_type="mobile_money",
        provider="sandbox",
        amount_minor=500,
        currency="KES",
        idempotency_key="k",
        origin=Origin.USER,
        now=NOW,
    )
    return withdrawal


@pytest.mark.parametrize(
    ("amount_minor", "spent_minor", "code"),
    [
        (99, 0, "AMOUNT_BELOW_MINIMUM"),
        (1_001, 0, "AMOUNT_ABOVE_MAXIMUM"),
        (600, 1_000, "DAILY_LIMIT_EXCEEDED"),
        # Seed 001's order: the minimum is checked before the day, so a tiny amount says "minimum".
        (50, 1_500, "AMOUNT_BELOW_MINIMUM"),
    ],
)
def test_limits_refuse_in_the_seeds_order(amount_minor: int, spent_minor: int, code: str) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        check_amount(LIMITS, "KES", amount_minor, spent_minor)
    assert refused.value.error_code == code and refused.value.business


def test_limits_admit_the_edges_and_refuse_an_unoffered_currency() -> None:
    check_amount(LIMITS, "KES", 100, 0)
    check_amount(LIMITS, "KES", 1_000, 500)
    with pytest.raises(BusinessRuleError, match="not offered"):
        check_amount(None, "USD", 100, 0)


def test_limits_must_be_ordered() -> None:
    with pytest.raises(InvalidRequestError):
        CurrencyLimits(min_minor=10, max_minor=5, daily_max_minor=20)
    assert set(DEFAULT_LIMITS) == {"KES", "EUR"}


def test_a_withdrawal_walks_the_happy_path_and_the_ledger_follows_each_decision() -> None:
    reserving = _withdrawal()
    assert reserving.status is WithdrawalStatus.RESERVING and reserving.hold_due() is None
    pending = reserving.reserved("txn_hold", NOW)
    approved = pending.approved("amir", NOW + timedelta(seconds=1))
    processing = approved.submitted(NOW, conversation_id="AG_1", next_status_check_at=None)
    succeeded = processing.succeeded("RCPT1", NOW)
    assert succeeded.hold_due() is HoldStatus.COMMITTED
    committed = succeeded.hold_settled(HoldStatus.COMMITTED, NOW)
    assert committed.hold_due() is None
    reversed_ = committed.reversed("provider reversal", NOW)
    assert reversed_.hold_due() is HoldStatus.REVERSED


def test_failure_and_rejection_void_and_terminal_states_refuse_more() -> None:
    pending = _withdrawal().reserved("txn_hold", NOW)
    assert pending.rejected("kyc", NOW).hold_due() is HoldStatus.VOIDED
    failed = pending.approved("amir", NOW).failed("PROVIDER_1", "declined", NOW)
    assert failed.hold_due() is HoldStatus.VOIDED
    with pytest.raises(BusinessRuleError) as terminal:
        failed.approved("amir", NOW)
    assert terminal.value.error_code == "WITHDRAWAL_TERMINAL"
    with pytest.raises(ConflictError):
        pending.succeeded("R", NOW)


def test_a_payout_sent_again_keeps_its_id_and_gets_its_status_queries_back() -> None:
    processing = (
        _withdrawal()
        .reserved("txn_hold", NOW)
        .approved("amir", NOW)
        .submitted(NOW, conversation_id="AG_1", next_status_check_at=NOW)
    )
    asked = processing.status_check_scheduled(NOW + timedelta(seconds=1), NOW)
    later = NOW + timedelta(minutes=1)
    resent = asked.resubmitted(later, conversation_id="AG_2", next_status_check_at=later + timedelta(seconds=30))
    assert (resent.status, resent.provider_reference, resent.provider_conversation_id) == (
        WithdrawalStatus.PROCESSING,
        processing.provider_reference,
        "AG_2",
    )
    assert (resent.status_checks, resent.next_status_check_at, resent.submitted_at) == (
        0,
        later + timedelta(seconds=30),
        later,
    )
    assert resent.hold_due() is None  # still undecided: the hold stays until the rail answers
    with pytest.raises(BusinessRuleError):
        resent.succeeded("R", NOW).resubmitted(later, conversation_id="AG_3", next_status_check_at=later)


def test_an_update_never_moves_before_creation() -> None:
    earlier = NOW - timedelta(hours=1)
    assert _withdrawal().reserved("txn", earlier).updated_at == NOW


def test_dual_approval_refuses_the_requester_and_a_second_decision() -> None:
    request = ApprovalRequest(
        id="apr_1", withdrawal_id="wd_1", status=ApprovalStatus.PENDING, requested_by="olga", requested_at=NOW
    )
    with pytest.raises(ForbiddenError) as same:
        request.approved_by(Actor("olga", ("operator",)), NOW)
    assert same.value.error_code == "SAME_APPROVER"
    approved = request.approved_by(Actor("amir", ("approver",)), NOW)
    assert approved.decided_by == "amir"
    with pytest.raises(ConflictError):
        approved.rejected_by(Actor("zoe", ("approver",)), "late", NOW)


@pytest.mark.parametrize(
    ("asked_primary", "has_primary", "primary"), [(True, True, True), (False, False, True), (False, True, False)]
)
def test_the_seeds_primary_rule(asked_primary: bool, has_primary: bool, primary: bool) -> None:
    request = NewWithdrawalMethod(
        user_id="usr_1",
        method_type=MethodType.MOBILE_MONEY,
        provider="mpesa",
        account_number="+254712345678",
        account_number_masked="+254******678",
        currency="KES",
        is_primary=asked_primary,
    )
    assert new_method(request, method_id="wdm_1", has_primary=has_primary, now=NOW).is_primary is primary
