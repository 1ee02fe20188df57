"""Decision rules, fee rounding, PAN refusal and the processor contract, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from clearway.authorization.domain.authorizations import (
    AuthorizationRequest,
    CardActivity,
    Channel,
    Reason,
    VelocityPolicy,
    markup_fee_minor,
    refusal_before_hold,
)
from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    CardAccount,
    CardAccountStatus,
    CardAccountTerms,
    check_terms,
    figures_from_balances,
)
from clearway.authorization.domain.cards import (
    Card,
    CardControls,
    CardStatus,
    UpdateCard,
    check_last_four,
    parse_expires,
)
from clearway.authorization.domain.errors import ConflictError, RuleViolationError
from clearway.contracts.events import CardAuthorizationDecided, CardAuthorizationRequested

NOW = datetime(2026, 5, 2, 9, 15, tzinfo=UTC)
IDLE = CardActivity(spent_today_minor=0, recent_count=0)
OFF = VelocityPolicy()


def account(status: CardAccountStatus = CardAccountStatus.ACTIVE) -> CardAccount:
    return CardAccount(
        id="cac_1",
        identity_id="idt_1",
        currency="USD",
        terms=CardAccountTerms(credit_limit_minor=500_000, billing_cycle_day=1, payment_due_days=21),
        status=status,
        ledger_id="ldg_1",
        balance_ids={name: f"bln_{index}" for index, name in enumerate(BALANCE_TYPES)},
        created_at=NOW,
        updated_at=NOW,
    )


def card(status: CardStatus = CardStatus.ACTIVE, **controls: object) -> Card:
    return Card(
        id="crd_1",
        card_account_id="cac_1",
        last_four="4242",
        expires_month=9,
        expires_year=2029,
        status=status,
        controls=CardControls(**controls),  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
    )


def request(amount_minor: int = 200_000, channel: Channel = Channel.POS, mcc: str = "5814") -> AuthorizationRequest:
    return AuthorizationRequest(
        authorization_id="auth_1",
        card_id="crd_1",
        amount_minor=amount_minor,
        currency="USD",
        merchant_name="Corner Coffee",
        merchant_category_code=mcc,
        channel=channel,
        requested_at=NOW,
    )


def test_a_clean_request_goes_to_the_ledger() -> None:
    assert refusal_before_hold(request(), card(), account(), IDLE, OFF, NOW) is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ({"card": None}, Reason.INVALID_REQUEST),
        ({"request": replace(request(), currency="EUR")}, Reason.INVALID_REQUEST),
        ({"request": request(amount_minor=0)}, Reason.INVALID_REQUEST),
        ({"card": card(CardStatus.FROZEN)}, Reason.CARD_INACTIVE),
        ({"card": card(CardStatus.CLOSED)}, Reason.CARD_INACTIVE),
        ({"account": account(CardAccountStatus.OPENING)}, Reason.CARD_INACTIVE),
        ({"card": replace(card(), expires_year=2026, expires_month=4)}, Reason.CARD_INACTIVE),
        ({"card": card(blocked_mccs=("5814",))}, Reason.CONTROL_VIOLATION),
        ({"card": card(per_transaction_max_minor=199_999)}, Reason.CONTROL_VIOLATION),
        ({"card": card(atm_allowed=False), "request": request(channel=Channel.ATM)}, Reason.CONTROL_VIOLATION),
        ({"card": card(daily_max_minor=250_000), "activity": CardActivity(50_001, 0)}, Reason.CONTROL_VIOLATION),
        ({"velocity": VelocityPolicy(count_max=3), "activity": CardActivity(0, 3)}, Reason.VELOCITY_EXCEEDED),
    ],
)
def test_each_refusal_before_the_hold_has_its_reason(subject: dict[str, object], expected: Reason) -> None:
    arguments: dict[str, object] = {
        "request": request(),
        "card": card(),
        "account": account(),
        "activity": IDLE,
        "velocity": OFF,
        "now": NOW,
    }
    arguments.update(subject)
    assert refusal_before_hold(**arguments) is expected  # type: ignore[arg-type]


def test_limits_at_their_edge_are_allowed_and_status_comes_before_controls() -> None:
    assert refusal_before_hold(request(), card(per_transaction_max_minor=200_000), account(), IDLE, OFF, NOW) is None
    at_daily = card(daily_max_minor=250_000)
    assert refusal_before_hold(request(), at_daily, account(), CardActivity(50_000, 0), OFF, NOW) is None
    assert refusal_before_hold(request(), card(), account(), CardActivity(0, 2), VelocityPolicy(3), NOW) is None
    frozen_and_blocked = card(CardStatus.FROZEN, blocked_mccs=("5814",))
    assert refusal_before_hold(request(), frozen_and_blocked, account(), IDLE, OFF, NOW) is Reason.CARD_INACTIVE


@pytest.mark.parametrize(
    ("amount_minor", "bps", "fee_minor"),
    [
        (200_000, 150, 3_000),
        (300_000, 150, 4_500),
        (100, 150, 2),
        (33, 150, 0),
        (34, 150, 1),
        (1_000, 0, 0),
        (1, 5_000, 1),
    ],
)
def test_the_markup_fee_rounds_half_up_in_minor_units(amount_minor: int, bps: int, fee_minor: int) -> None:
    # 100 x 1.5% = 1.5 -> 2; 33 x 1.5% = 0.495 -> 0; 34 x 1.5% = 0.51 -> 1; 1 x 50% = 0.5 -> 1.
    assert markup_fee_minor(amount_minor, bps) == fee_minor


def test_figures_read_what_is_owed_from_overdrawn_balances() -> None:
    balances = {name: (0, 0) for name in BALANCE_TYPES}
    balances["card:primary"] = (-100_000, 400_000)
    balances["fees:payable"] = (-7_500, 0)
    balances["transaction:interest"] = (-2_000, 0)
    figures = figures_from_balances(500_000, balances)
    assert figures.available_credit_minor == 0
    assert (figures.outstanding_minor, figures.pending_minor, figures.fees_minor) == (100_000, 400_000, 7_500)
    assert (figures.interest_minor, figures.billed_minor, figures.overdue_minor) == (2_000, 0, 0)


@pytest.mark.parametrize(
    ("currency", "terms", "code"),
    [
        ("usd", CardAccountTerms(1, 1, 21), "CURRENCY_UNKNOWN"),
        ("USD", CardAccountTerms(0, 1, 21), "CREDIT_LIMIT_INVALID"),
        ("USD", CardAccountTerms(1, 29, 21), "BILLING_CYCLE_DAY_INVALID"),
        ("USD", CardAccountTerms(1, 1, 0), "PAYMENT_DUE_DAYS_INVALID"),
        ("USD", CardAccountTerms(1, 1, 21, fee_markup_bps=10_001), "RATE_INVALID"),
    ],
)
def test_account_terms_are_refused_with_stable_codes(currency: str, terms: CardAccountTerms, code: str) -> None:
    with pytest.raises(RuleViolationError) as refused:
        check_terms(currency, terms, known_currency=currency == "USD")
    assert refused.value.error_code == code


@pytest.mark.parametrize("value", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242", "424242424242"])
def test_anything_that_looks_like_a_pan_is_refused(value: str) -> None:
    with pytest.raises(RuleViolationError) as refused:
        check_last_four(value)
    assert refused.value.error_code == "PAN_NOT_ALLOWED"


def test_last_four_and_expiry_are_checked() -> None:
    check_last_four("0042")
    with pytest.raises(RuleViolationError, match="last four"):
        check_last_four("42a2")
    assert parse_expires("09/29", NOW) == (9, 2029)
    assert parse_expires("05/26", NOW) == (5, 2026)
    for bad, code in (("13/29", "EXPIRY_INVALID"), ("9/29", "EXPIRY_INVALID"), ("04/26", "CARD_EXPIRED")):
        with pytest.raises(RuleViolationError) as refused:
            parse_expires(bad, NOW)
        assert refused.value.error_code == code


def test_a_closed_card_never_changes() -> None:
    frozen = card().updated(UpdateCard(status=CardStatus.FROZEN), NOW)
    assert frozen.status is CardStatus.FROZEN and frozen.controls == CardControls()
    closed = frozen.updated(UpdateCard(status=CardStatus.CLOSED), NOW)
    with pytest.raises(ConflictError):
        closed.updated(UpdateCard(status=CardStatus.ACTIVE), NOW)


def test_the_processor_contract_refuses_what_it_must() -> None:
    body = {
        "authorization_id": "auth_1",
        "card_id": "crd_1",
        "amount_minor": 200_000,
        "currency": "USD",
        "merchant_name": "Corner Coffee",
        "merchant_category_code": "5814",
        "channel": "atm",
        "requested_at": "2026-05-02T09:15:27Z",
    }
    assert CardAuthorizationRequested.model_validate(body).channel == "atm"
    for field, bad in (
        ("amount_minor", "2000"),
        ("channel", "moto"),
        ("merchant_category_code", "58"),
        ("requested_at", "2026-05-02T09:15:27"),
    ):
        with pytest.raises(ValidationError):
            CardAuthorizationRequested.model_validate({**body, field: bad})


def test_the_decided_event_allows_only_the_stable_reasons() -> None:
    decided = {
        "id": "cau_1",
        "authorization_id": "auth_1",
        "card_id": "crd_1",
        "decision": "declined",
        "reason": "insufficient_funds",
        "amount_minor": 300_001,
        "currency": "USD",
        "decided_at": "2026-05-02T09:15:27Z",
    }
    assert CardAuthorizationDecided.model_validate(decided).reason == "insufficient_funds"
    with pytest.raises(ValidationError):
        CardAuthorizationDecided.model_validate({**decided, "reason": "no_money"})
    with pytest.raises(ValidationError):
        CardAuthorizationDecided.model_validate({**decided, "decision": "maybe"})
