"""Prefixed, sortable identifiers (`txn_01j9...`).

A ULID sorts by creation time, so ids double as a stable cursor for pagination and a
reader can tell an id's kind from its prefix alone. Within one millisecond the ids of a
process keep increasing (the random part counts up, as python-ulid's strict monotonic
policy does), so a batch's ids sort in the order they were made.

Made here rather than through python-ulid's `str(ULID())` because every posted transfer needs
two (its transaction and its event): about a third of the time on the ledger's hot path. The text is
the same Crockford base32, lowercased (`test_platform_ids` checks it against python-ulid).
"""

from __future__ import annotations

import os
import threading
import time

PREFIX_MAX_LENGTH = 8
_RANDOM_BITS = 80
_TIMESTAMP_MAX_MS = (1 << 48) - 1
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # base32 without I, L, O, U; lowercase
# Every 10-bit value as its two digits: a 130-bit ULID text is 13 lookups.
_DIGIT_PAIRS = tuple(high + low for high in _CROCKFORD for low in _CROCKFORD)


class _MonotonicUlids:
    """128-bit ULID values: 48 bits of Unix milliseconds, then 80 random bits counted up within a millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next_value(self) -> int:
        now_ms = time.time_ns() // 1_000_000
        assert now_ms <= _TIMESTAMP_MAX_MS
        with self._lock:
            if now_ms > self._last >> _RANDOM_BITS:
                value = (now_ms << _RANDOM_BITS) | int.from_bytes(os.urandom(_RANDOM_BITS // 8))
            else:
                # Same millisecond (or the clock stepped back): one more than the last, never a repeat.
                value = self._last + 1
            self._last = value
            return value


_ULIDS = _MonotonicUlids()


def ulid_text(value: int) -> str:
    """The 26-character lowercase Crockford base32 text of a 128-bit ULID value (130 bits, the top 2 zero)."""
    pairs = _DIGIT_PAIRS
    return "".join(
        (
            pairs[value >> 120],
            pairs[(value >> 110) & 1023],
            pairs[(value >> 100) & 1023],
            pairs[(value >> 90) & 1023],
            pairs[(value >> 80) & 1023],
            pairs[(value >> 70) & 1023],
            pairs[(value >> 60) & 1023],
            pairs[(value >> 50) & 1023],
            pairs[(value >> 40) & 1023],
            pairs[(value >> 30) & 1023],
            pairs[(value >> 20) & 1023],
            pairs[(value >> 10) & 1023],
            pairs[value & 1023],
        )
    )


def new_id(prefix: str) -> str:
    assert prefix.isalpha() and prefix.islower(), f"id prefix must be lowercase letters: {prefix!r}"
    assert len(prefix) <= PREFIX_MAX_LENGTH, f"id prefix too long: {prefix!r}"
    return f"{prefix}_{ulid_text(_ULIDS.next_value())}"


def id_prefix(identifier: str) -> str:
    prefix, separator, _ = identifier.partition("_")
    return prefix if separator else ""
