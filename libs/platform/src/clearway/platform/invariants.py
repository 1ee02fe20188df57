"""Invariants are checked with `assert` (TigerBeetle's habit: assert what only a programming error
can break, and keep the assertions on in production). `python -O` strips every `assert`, so a
service started that way would run without its invariants: it refuses to start instead.

Anything a caller or the outside world can cause is refused with a named exception, never an
`assert`; see docs/service-anatomy.md ("Errors and invariants").
"""

from __future__ import annotations

ASSERTIONS_DISABLED_MESSAGE = (
    "Clearway services check their invariants with assert statements, which python -O (or "
    "PYTHONOPTIMIZE) removes. Start the service without -O and with PYTHONOPTIMIZE unset."
)


class AssertionsDisabledError(RuntimeError):
    """The interpreter runs with assertions stripped (`python -O` / `PYTHONOPTIMIZE`)."""


def require_assertions_enabled() -> None:
    """Raise `AssertionsDisabledError` under `python -O`; a no-op otherwise."""
    if not __debug__:
        raise AssertionsDisabledError(ASSERTIONS_DISABLED_MESSAGE)
