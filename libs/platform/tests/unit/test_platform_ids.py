"""`new_id`: python-ulid's text, increasing within a process, and the prefix rules."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from clearway.platform import ids
from clearway.platform.ids import id_prefix, new_id, ulid_text


@given(st.integers(min_value=0, max_value=(1 << 128) - 1))
def test_the_text_is_python_ulids_lowercased(value: int) -> None:
    assert ulid_text(value) == str(ULID.from_int(value)).lower()


def test_ids_made_in_a_row_increase_and_never_repeat() -> None:
    made = [new_id("txn") for _ in range(20_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_an_id_carries_the_millisecond_it_was_made() -> None:
    before_ms = time.time_ns() // 1_000_000
    made = new_id("evt")
    after_ms = time.time_ns() // 1_000_000
    moment_ms = int(ULID.from_str(made.removeprefix("evt_").upper()).milliseconds)
    assert before_ms <= moment_ms <= after_ms


def test_a_clock_that_steps_back_still_gives_a_larger_id(monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_id("txn")
    monkeypatch.setattr(ids.time, "time_ns", lambda: 0)
    assert new_id("txn") > first


def test_prefixes() -> None:
    assert id_prefix(new_id("wdr")) == "wdr"
    assert id_prefix("no-prefix") == ""
    with pytest.raises(AssertionError):
        new_id("Txn")
    with pytest.raises(AssertionError):
        new_id("toolongprefix")
