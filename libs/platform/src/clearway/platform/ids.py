"""Prefixed, sortable identifiers (`txn_01j9...`).

A ULID sorts by creation time, so ids double as a stable cursor for pagination and a
reader can tell an id's kind from its prefix alone.
"""

from ulid import ULID

PREFIX_MAX_LENGTH = 8


def new_id(prefix: str) -> str:
    assert prefix.isalpha() and prefix.islower(), f"id prefix must be lowercase letters: {prefix!r}"
    assert len(prefix) <= PREFIX_MAX_LENGTH, f"id prefix too long: {prefix!r}"
    return f"{prefix}_{str(ULID()).lower()}"


def id_prefix(identifier: str) -> str:
    prefix, separator, _ = identifier.partition("_")
    return prefix if separator else ""
