"""Kafka subscribers: thin adapters from events to authorization use cases.

None yet. The catalogue names what this service will consume (`card.authorization.requested`,
`card.authorization.reversed`, `card.clearing.received`, the ledger's hold outcomes); each gets
a handler here that validates the contract model and calls one use case in a unit of work.
"""

from __future__ import annotations

from collections.abc import Callable

from clearway.authorization.service.ports import AuthorizationUnitOfWork
from clearway.platform.consumer import Handler

UnitOfWorkFactory = Callable[[], AuthorizationUnitOfWork]


def subscriptions(unit_of_work: UnitOfWorkFactory) -> list[tuple[str, str, Handler]]:
    return []
