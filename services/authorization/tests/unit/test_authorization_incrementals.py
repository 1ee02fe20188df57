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
    pending_authorization,
)
from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    CARD_PRIMARY,
    CardAccount,
    CardAccountStatus,
    CardAccountTerms,
)
from clearway.authorization.domain.errors import ConflictError

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
