"""The in-memory session store: random ids, idle expiry, a bound, CSRF tokens, flashes."""

from __future__ import annotations

from clearway.console.permissions import Action, may
from clearway.console.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_id_until_it_idles_out() -> None:
    clock = Clock()
    store = SessionStore(idle_timeout_s=60, sessions_max=10, clock=clock)
    session = store.create(api_key="k", name="dev-admin", roles=frozenset({"admin"}))
    assert len(session.id) >= 40 and session.id != session.csrf_token
    clock.now += 59
    assert store.get(session.id) is session  # a request renews it
    clock.now += 59
    assert store.get(session.id) is session
    clock.now += 61
    assert store.get(session.id) is None
    assert store.get(None) is None and store.get("") is None


def test_the_oldest_session_goes_when_the_store_is_full_and_sign_out_drops_one() -> None:
    store = SessionStore(idle_timeout_s=60, sessions_max=2)
    first, second, third = (store.create(api_key=f"k{i}", name="n", roles=frozenset()) for i in range(3))
    assert store.get(first.id) is None and store.get(second.id) is second
    store.drop(third.id)
    assert store.get(third.id) is None and len(store) == 1


def test_csrf_tokens_are_compared_exactly_and_flashes_show_once() -> None:
    session = SessionStore(idle_timeout_s=60, sessions_max=2).create(api_key="k", name="n", roles=frozenset())
    assert session.csrf_matches(session.csrf_token)
    assert not session.csrf_matches(None) and not session.csrf_matches(session.csrf_token[:-1])
    session.flash("ok", "done")
    assert session.take_flashes() == [("ok", "done")] and session.take_flashes() == []


def test_actions_are_offered_by_role_and_admin_holds_every_role() -> None:
    assert may({"admin"}, Action.DECIDE_SETTLEMENT)
    assert may({"approver"}, Action.DECIDE_SETTLEMENT) and not may({"approver"}, Action.REQUEST_SETTLEMENT)
    assert may({"operator"}, Action.MATCH) and not may({"operator"}, Action.DECIDE_SETTLEMENT)
    assert not any(may({"read_only"}, action) for action in Action)
