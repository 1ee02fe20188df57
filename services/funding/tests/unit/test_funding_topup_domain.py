"""Top-up state transitions and how a provider answer relates to the recorded outcome (pure, no I/O)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from clearway.funding.domain import topups as domain
from clearway.funding.domain.topups import Delivery, ProviderOutcome, ResolvedBy, StartTopup, Topup, TopupStatus

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
PAID = ProviderOutcome(
    succeeded=True, result_code=0, result_desc="ok", receipt="SBX0000001", amount_minor=150_000, currency="KES"
)
DECLINED = ProviderOutcome(
    succeeded=False, result_code=1032, result_desc="Request cancelled by user.", failure_reason="cancelled_by_user"
)
UNREACHABLE = ProviderOutcome(
    succeeded=False, result_code=1037, result_desc="unreachable", failure_reason="unreachable"
)


def command(**changes: object) -> StartTopup:
    fields: dict[str, object] = {
        "workspace_id": "default",
        "identity_id": "idt_1",
        "amount_minor": 150_000,
        "currency": "KES",
        "phone": "+254712345678",
        "idempotency_key": "key-1",
    }
    fields.update(changes)
    return StartTopup(**fields)  # type: ignore[arg-type]


def pending(**changes: object) -> Topup:
    topup = domain.new_topup(
        command(),
        topup_id="top_1",
        wallet_balance_id="bln_wallet",
        provider="sandbox",
        now=NOW,
        first_status_check_at=NOW + timedelta(seconds=30),
    )
    topup = domain.push_accepted(
        topup,
        checkout_request_id="ws_CO_1",
        merchant_request_id="m-1",
        now=NOW,
        first_status_check_at=NOW + timedelta(seconds=30),
    )
    return dataclasses.replace(topup, **changes)  # type: ignore[arg-type]


def test_a_new_top_up_is_pending_and_due_for_a_check_after_the_timeout() -> None:
    topup = pending()
    assert topup.status is TopupStatus.PENDING and not topup.is_final
    assert topup.next_status_check_at == NOW + timedelta(seconds=30)
    assert topup.ledger_reference is None and topup.resolved_by is None
    assert topup.ledger_reference_for_credit() == "topup:top_1"


def test_a_top_up_is_pushed_once() -> None:
    with pytest.raises(AssertionError):
        domain.push_accepted(
            pending(), checkout_request_id="ws_CO_2", merchant_request_id="m", now=NOW, first_status_check_at=NOW
        )


def test_success_records_the_receipt_and_the_ledger_reference() -> None:
    settled = domain.settle(
        pending(),
        PAID,
        resolved_by=ResolvedBy.CALLBACK,
        now=NOW,
        ledger_transaction_id="txn_1",
        callback_fingerprint="f",
    )
    assert settled.status is TopupStatus.SUCCEEDED
    assert (settled.receipt, settled.ledger_reference, settled.ledger_transaction_id) == (
        "SBX0000001",
        "topup:top_1",
        "txn_1",
    )
    assert settled.next_status_check_at is None and settled.resolved_by is ResolvedBy.CALLBACK


@pytest.mark.parametrize("outcome", [DECLINED, UNREACHABLE], ids=["declined", "unreachable"])
def test_failure_records_why_and_moves_no_money(outcome: ProviderOutcome) -> None:
    settled = domain.settle(pending(), outcome, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    assert settled.status is TopupStatus.FAILED
    assert settled.result_code == outcome.result_code and settled.failure_reason == outcome.failure_reason
    assert settled.ledger_reference is None


def test_a_top_up_is_settled_once() -> None:
    settled = domain.settle(pending(), PAID, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    with pytest.raises(AssertionError):
        domain.settle(settled, PAID, resolved_by=ResolvedBy.CALLBACK, now=NOW)


def test_the_same_answer_again_is_a_duplicate() -> None:
    succeeded = domain.settle(pending(), PAID, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    failed = domain.settle(pending(), DECLINED, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    assert domain.classify(pending(), PAID) is Delivery.APPLY
    assert domain.classify(succeeded, PAID) is Delivery.DUPLICATE
    assert domain.classify(failed, DECLINED) is Delivery.DUPLICATE
    # A status query does not echo the receipt: it still agrees with the callback's success.
    assert domain.classify(succeeded, dataclasses.replace(PAID, receipt=None, amount_minor=None)) is Delivery.DUPLICATE


def test_a_contradicting_answer_is_a_conflict() -> None:
    succeeded = domain.settle(pending(), PAID, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    failed = domain.settle(pending(), DECLINED, resolved_by=ResolvedBy.CALLBACK, now=NOW)
    assert domain.classify(succeeded, DECLINED) is Delivery.CONFLICTING
    assert domain.classify(succeeded, dataclasses.replace(PAID, receipt="OTHER00001")) is Delivery.CONFLICTING
    assert domain.classify(failed, PAID) is Delivery.CONFLICTING
    assert domain.classify(failed, UNREACHABLE) is Delivery.CONFLICTING


def test_a_payment_of_another_amount_is_never_applied() -> None:
    assert domain.classify(pending(), dataclasses.replace(PAID, amount_minor=100)) is Delivery.CONFLICTING
    assert domain.classify(pending(), dataclasses.replace(PAID, currency="TZS")) is Delivery.CONFLICTING


def test_a_refused_push_fails_without_a_checkout() -> None:
    fresh = domain.new_topup(
        command(), topup_id="top_2", wallet_balance_id="b", provider="sandbox", now=NOW, first_status_check_at=NOW
    )
    failed = domain.push_refused(fresh, failure_reason="provider_unavailable", result_desc="down", now=NOW)
    assert failed.status is TopupStatus.FAILED and failed.resolved_by is ResolvedBy.PUSH
    assert failed.checkout_request_id is None and failed.next_status_check_at is None


def test_status_checks_are_counted_and_can_stop() -> None:
    checked = domain.status_checked(pending(), now=NOW, next_check_at=NOW + timedelta(seconds=15))
    assert checked.status_checks == 1 and checked.next_status_check_at == NOW + timedelta(seconds=15)
    assert domain.stop_checking(checked, now=NOW).next_status_check_at is None


def test_invariants_hold_on_construction() -> None:
    with pytest.raises(AssertionError):
        command(amount_minor=0)
    with pytest.raises(AssertionError):
        command(phone="0712345678")  # must be normalised to E.164 first
    with pytest.raises(AssertionError):
        pending(status=TopupStatus.SUCCEEDED)  # succeeded without a ledger reference
    with pytest.raises(AssertionError):
        ProviderOutcome(succeeded=False, result_code=0, result_desc="x", failure_reason="x")


def test_a_retry_under_the_same_key_must_ask_for_the_same_thing() -> None:
    topup = pending()
    assert command().same_request_as(topup)
    assert not command(amount_minor=1).same_request_as(topup)
    assert not command(phone="+254722000111").same_request_as(topup)
