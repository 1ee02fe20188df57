"""Incremental authorizations in the domain: the original is `raising` while the larger hold is asked
for (nothing else touches it), then raised by the increment or left as it was; the larger hold's
reference is the increment's, so a refused increment never spends the next one's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import (
    Authorization,
    AuthorizationRequest,
    AuthorizationStatus,
    Channel,
    Reason,
    pending_authorization,
)
from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    CARD_PRIMARY,
    CardAccount,
    CardAccountStatus,
    CardAccountTerms,
)
from clearway.authorization.domain.errors import ConflictError, RuleViolationError

NOW = datetime(2026, 5, 2, 9, 15, tzinfo=UTC)
ACCOUNT = CardAccount(
    id="cac_1",
    identity_id="idt_1",
    currency="USD",
    terms=CardAccountTerms(credit_limit_minor=500_000, billing_cycle_day=1, payment_due_days=21),
    status=CardAccountStatus.ACTIVE,
    ledger_id="ldg_1",
    balance_ids={name: f"bln_{index}" for index, name in enumerate(BALANCE_TYPES)},
    created_at=NOW,
    updated_at=NOW,
)


def _request(processor_id: str, amount_minor: int, incremental_of: str | None = None) -> AuthorizationRequest:
    return AuthorizationRequest(
        authorization_id=processor_id,
        card_id="crd_1",
        amount_minor=amount_minor,
        currency="USD",
        merchant_name="Grand Hotel",
        merchant_category_code="7011",
        channel=Channel.POS,
        requested_at=NOW,
        incremental_of=incremental_of,
    )


def _approved_original() -> Authorization:
    pending = pending_authorization("cau_orig", _request("auth_1", 200_000), ACCOUNT, NOW)
    return pending.approved("txn_hold0", 3_000, 300_000, NOW)


def _increment(amount_minor: int = 50_000, ref: str = "cau_inc1") -> Authorization:
    return pending_authorization(
        ref, _request(f"auth_{ref}", amount_minor, "auth_1"), ACCOUNT, NOW, incremental_of="cau_orig"
    )


def test_a_raised_original_holds_and_is_for_more_on_the_next_generation() -> None:
    raising = _approved_original().raise_started(NOW)
    assert raising.status is AuthorizationStatus.RAISING and raising.in_progress
    raised = raising.raised(50_000, "txn_raise", NOW)
    assert (raised.status, raised.amount_minor, raised.held_minor) == (AuthorizationStatus.APPROVED, 250_000, 250_000)
    assert (raised.hold_generation, raised.hold_transaction_id) == (1, "txn_raise")
    # The next partial reversal re-places under the next generation, never a reference a raise used.
    assert postings.hold_reference(raised) == "authorization:cau_orig:hold:1"


def test_a_refused_raise_leaves_the_original_as_it_was() -> None:
    original = _approved_original()
    back = original.raise_started(NOW).raise_refused(NOW)
    assert (back.status, back.held_minor, back.hold_generation, back.hold_transaction_id) == (
        AuthorizationStatus.APPROVED,
        200_000,
        0,
        "txn_hold0",
    )


def test_a_raising_original_cannot_be_reversed_meanwhile() -> None:
    with pytest.raises(ConflictError) as refused:
        _approved_original().raise_started(NOW).reversal_started(None, NOW)
    assert refused.value.error_code == "AUTHORIZATION_IN_PROGRESS"


def test_an_approved_increment_holds_nothing_itself() -> None:
    approved = _increment().approved("txn_raise", 750, 250_000, NOW)
    assert (approved.held_minor, approved.incremental_of, approved.clearable) == (0, "cau_orig", False)


def test_the_larger_hold_is_the_originals_plus_the_increment_under_the_increments_reference() -> None:
    original = _approved_original()
    first, second = _increment(ref="cau_inc1"), _increment(ref="cau_inc2")
    posting = postings.raise_posting(original, first, ACCOUNT)
    assert (posting.amount_minor, posting.inflight, posting.source) == (250_000, True, ACCOUNT.balance_id(CARD_PRIMARY))
    assert posting.reference == "authorization:cau_orig:raise:cau_inc1"
    assert postings.raise_posting(original, second, ACCOUNT).reference != posting.reference
    assert posting.meta_data["incremental_authorization_id"] == "auth_cau_inc1"


def _raised_by(*amounts_minor: int) -> tuple[Authorization, list[Authorization]]:
    """The approved original raised by each increment in turn (as `incrementals.decide` leaves them)."""
    original = _approved_original()
    increments = []
    for index, amount_minor in enumerate(amounts_minor):
        increment = _increment(amount_minor, ref=f"cau_inc{index}").approved(f"txn_raise{index}", 0, None, NOW)
        original = original.raise_started(NOW).raised(amount_minor, f"txn_raise{index}", NOW)
        increments.append(increment)
    return original, increments


def test_a_full_reversal_naming_an_increment_releases_that_increment_once() -> None:
    original, (first, _) = _raised_by(100_000, 50_000)
    counted, started = first.increment_reversal_started(original, None, NOW)
    assert (started.status, started.reversing_minor, started.held_minor) == (
        AuthorizationStatus.REVERSING,
        100_000,
        350_000,
    )
    assert (counted.reversed_minor, counted.held_minor) == (100_000, 0)
    after = started.reversal_finished(NOW)
    assert (after.status, after.held_minor) == (AuthorizationStatus.APPROVED, 250_000)
    # Again (a processor's retry under a new event id): nothing of it is left.
    with pytest.raises(ConflictError) as refused:
        counted.increment_reversal_started(after, None, NOW)
    assert refused.value.error_code == "AUTHORIZATION_NOT_REVERSIBLE"


def test_a_partial_reversal_naming_an_increment_is_at_most_what_is_left_of_it() -> None:
    original, (first,) = _raised_by(100_000)
    counted, started = first.increment_reversal_started(original, 30_000, NOW)
    assert (counted.reversed_minor, started.reversing_minor) == (30_000, 30_000)
    original = started.reversal_finished(NOW)
    with pytest.raises(RuleViolationError) as over:
        counted.increment_reversal_started(original, 70_001, NOW)
    assert (over.value.error_code, over.value.extra["held_minor"]) == ("REVERSAL_EXCEEDS_HOLD", 70_000)
    counted, started = counted.increment_reversal_started(original, None, NOW)
    assert (counted.reversed_minor, started.reversing_minor) == (100_000, 70_000)


def test_a_full_reversal_naming_an_increment_never_releases_more_than_the_original_holds() -> None:
    original, (first,) = _raised_by(100_000)
    original = original.reversal_started(250_000, NOW).reversal_finished(NOW)  # by the original's id
    counted, started = first.increment_reversal_started(original, None, NOW)
    assert (started.reversing_minor, counted.reversed_minor) == (50_000, 50_000)
    gone = started.reversal_finished(NOW)
    assert (gone.status, gone.held_minor) == (AuthorizationStatus.REVERSED, 0)


def test_a_reversal_naming_a_pending_or_declined_increment_releases_nothing() -> None:
    original = _approved_original().raise_started(NOW)
    with pytest.raises(ConflictError) as busy:
        _increment().increment_reversal_started(original, None, NOW)
    assert busy.value.error_code == "AUTHORIZATION_IN_PROGRESS"
    declined = _increment().declined(Reason.INSUFFICIENT_FUNDS, 0, NOW)
    with pytest.raises(ConflictError) as refused:
        declined.increment_reversal_started(original.raise_refused(NOW), None, NOW)
    assert refused.value.error_code == "AUTHORIZATION_NOT_REVERSIBLE"


def test_a_reversal_that_overtakes_its_decision_is_retried_not_dropped() -> None:
    pending = pending_authorization("cau_orig", _request("auth_1", 200_000), ACCOUNT, NOW)
    with pytest.raises(ConflictError) as busy:
        pending.reversal_started(None, NOW)
    assert busy.value.error_code == "AUTHORIZATION_IN_PROGRESS"
