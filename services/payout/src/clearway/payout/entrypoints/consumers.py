"""Kafka subscribers: thin adapters from events to payout use cases.

None yet. The catalogue names what this service will consume (`payable.paid`, the ledger's
transaction and hold outcomes); each gets a handler here that validates the contract model and
calls one use case in a unit of work, recording the event in the inbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from clearway.payout.service.ports import PayoutUnitOfWork
from clearway.platform.consumer import Handler

UnitOfWorkFactory = Callable[[], PayoutUnitOfWork]


def subscriptions(unit_of_work: UnitOfWorkFactory) -> list[tuple[str, str, Handler]]:
    return []
