"""The top-up rules for end users (bearer user tokens): their own wallet, their own keys, their own reads."""

from __future__ import annotations

import pytest

from clearway.funding.domain.topup_errors import IdentityMismatchError
from clearway.funding.domain.topups import scoped_idempotency_key, wallet_owner_for_user
from clearway.funding.entrypoints.dependencies import READERS, TOPUP_READERS, TOPUP_STARTERS
from clearway.platform.auth import USER


def test_a_user_tops_up_their_own_wallet_whether_or_not_they_name_it() -> None:
    assert wallet_owner_for_user("idt_amina", None) == "idt_amina"
    assert wallet_owner_for_user("idt_amina", "idt_amina") == "idt_amina"
    with pytest.raises(IdentityMismatchError) as refused:
        wallet_owner_for_user("idt_amina", "idt_baraka")
    assert (refused.value.http_status, refused.value.code) == (422, "IDENTITY_MISMATCH")


def test_users_keys_are_kept_apart_and_api_key_callers_keys_are_unchanged() -> None:
    assert scoped_idempotency_key(None, "k-1") == "k-1"
    assert scoped_idempotency_key("idt_amina", "k-1") != scoped_idempotency_key("idt_baraka", "k-1")


def test_users_may_start_and_read_top_ups_and_nothing_else_that_readers_see() -> None:
    assert USER in TOPUP_STARTERS and USER in TOPUP_READERS
    assert USER not in READERS
