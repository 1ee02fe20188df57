"""Request/event context carried across HTTP, the outbox and consumers.

A correlation id starts at the edge (an HTTP request's `X-Correlation-Id`, or a consumed
event's `correlationid` attribute) and rides along into every event produced while handling
it; the causation id is the id of the event (or request) that directly caused the work.
Logs read both from here, so one id finds a whole flow across services.
"""

from __future__ import annotations

from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("clearway_correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("clearway_causation_id", default=None)


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


def current_causation_id() -> str | None:
    return causation_id_var.get()
