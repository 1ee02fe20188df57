"""The one type a client raises when the service it calls is down: pure, so domain layers may name it.

A client (the ledger's, another service's) raises a subclass once its bounded retries are spent on
connection failures or 5xx answers. `failures.is_infrastructure_failure` counts it as an outage: a
consumer rewinds and waits instead of dead-lettering the message (the message is fine; the
dependency is not), and an HTTP request answers 503 with `Retry-After`.
"""

from __future__ import annotations


class DependencyUnavailableError(Exception):
    """A service this one depends on could not be reached, or kept failing, after bounded retries."""
