"""Who may move which money (issue 14 §3): the pure tenancy rules, without a database."""

from __future__ import annotations

import pytest

from clearway.ledger.domain.errors import NotFound
from clearway.ledger.domain.tenancy import (
    PLATFORM,
    BalanceOwner,
    InternalBalanceReserved,
    Tenant,
    check_legs,
    check_named_internal,
    sees_any,
)

OWNERS = {
    "bln_a": BalanceOwner("ws_a", is_internal=False),
    "bln_b": BalanceOwner("ws_b", is_internal=False),
    "bln_platform": BalanceOwner(None, is_internal=False),  # e.g. a wallet in the general ledger
    "bln_world": BalanceOwner(None, is_internal=True),
}
WORKSPACE_A = Tenant("ws_a", may_move_internal=False)
WORKSPACE_A_SERVICE = Tenant("ws_a", may_move_internal=True)
PLATFORM_OPERATOR = Tenant(None, may_move_internal=False)


def test_the_platform_moves_anything() -> None:
    check_legs(PLATFORM, ["bln_world", "bln_a"], ["bln_b", "bln_platform"], OWNERS)
    check_named_internal(PLATFORM, ["@World-USD"], ["@Fees-USD"])


def test_a_workspace_moves_money_between_its_own_balances() -> None:
    check_legs(WORKSPACE_A, ["bln_a"], ["bln_a"], OWNERS)


@pytest.mark.parametrize(
    "debits,credits", [(["bln_a"], ["bln_b"]), (["bln_b"], ["bln_a"]), (["bln_a"], ["bln_platform"])]
)
def test_a_workspace_key_cannot_touch_another_tenants_balance(debits: list[str], credits: list[str]) -> None:
    with pytest.raises(NotFound):  # 404 like a missing balance: nothing learnt about other tenants
        check_legs(WORKSPACE_A, debits, credits, OWNERS)


def test_a_workspace_key_cannot_mint_money_from_world() -> None:
    with pytest.raises(InternalBalanceReserved) as refused:
        check_legs(WORKSPACE_A, ["bln_world"], ["bln_a"], OWNERS)
    assert refused.value.http_status == 403 and refused.value.code == "INTERNAL_BALANCE_RESERVED"
    with pytest.raises(InternalBalanceReserved):
        check_named_internal(WORKSPACE_A, ["@World-USD"], [])


def test_a_workspace_key_cannot_pay_into_the_platforms_internal_balances() -> None:
    with pytest.raises(InternalBalanceReserved):
        check_legs(WORKSPACE_A, ["bln_a"], ["bln_world"], OWNERS)
    with pytest.raises(InternalBalanceReserved):
        check_named_internal(WORKSPACE_A, [], ["@Fees-USD"])


def test_a_platform_operator_cannot_mint_but_may_pay_into_internal_balances() -> None:
    with pytest.raises(InternalBalanceReserved):
        check_legs(PLATFORM_OPERATOR, ["bln_world"], ["bln_a"], OWNERS)
    check_legs(PLATFORM_OPERATOR, ["bln_a"], ["bln_world"], OWNERS)
    check_named_internal(PLATFORM_OPERATOR, ["bln_a"], ["@Fees-USD"])


def test_a_workspace_service_key_funds_only_its_own_workspace_from_world() -> None:
    check_legs(WORKSPACE_A_SERVICE, ["bln_world"], ["bln_a"], OWNERS)
    with pytest.raises(NotFound):
        check_legs(WORKSPACE_A_SERVICE, ["bln_world"], ["bln_b"], OWNERS)


def test_unknown_balances_are_left_to_the_callers_not_found_check() -> None:
    check_legs(WORKSPACE_A, ["bln_missing"], ["bln_a"], OWNERS)


def test_a_transaction_is_visible_to_every_workspace_whose_balance_it_moves() -> None:
    assert sees_any(WORKSPACE_A, ["bln_world", "bln_a"], OWNERS)
    assert not sees_any(WORKSPACE_A, ["bln_world", "bln_b"], OWNERS)
    assert not sees_any(WORKSPACE_A, ["bln_platform"], OWNERS)
    assert sees_any(PLATFORM_OPERATOR, ["bln_b"], OWNERS)


def test_owns() -> None:
    assert PLATFORM.owns("ws_a") and PLATFORM.owns(None)
    assert WORKSPACE_A.owns("ws_a") and not WORKSPACE_A.owns("ws_b") and not WORKSPACE_A.owns(None)
