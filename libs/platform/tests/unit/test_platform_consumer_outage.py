"""A dependency outage must not divert messages to the dead-letter topic: the record is retried later."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc

from clearway.platform.consumer import (
    IncomingEvent,
    InfrastructureUnavailableError,
    RecordProcessor,
)
from clearway.platform.failures import is_infrastructure_failure
from clearway.platform.ledger import LedgerUnavailableError
from clearway.platform.outages import DependencyUnavailableError
from clearway.platform.retry import BackoffPolicy

from .test_platform_consumer_policy import DeadLetters, RecordedSleeps, record


class DownDatabase:
    calls = 0

    async def __call__(self, event: IncomingEvent) -> None:
        self.calls += 1
        try:
            raise ConnectionRefusedError(111, "connection refused")
        except ConnectionRefusedError as error:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, error) from error


class BadMessage:
    async def __call__(self, event: IncomingEvent) -> None:
        raise ValueError("amount_minor must be an integer")


def make(handler: object, dead_letters: DeadLetters) -> RecordProcessor:
    return RecordProcessor(
        group_id="funding.transfers",
        handler=handler,  # type: ignore[arg-type]
        policy=BackoffPolicy(attempts_max=3, initial_ms=1, maximum_ms=10_000),
        dead_letter=dead_letters,
        sleep_ms=RecordedSleeps(),
    )


async def test_outage_raises_instead_of_dead_lettering() -> None:
    dead_letters, handler = DeadLetters(), DownDatabase()
    with pytest.raises(InfrastructureUnavailableError):
        await make(handler, dead_letters).process(record())
    assert handler.calls == 3
    assert dead_letters.sent == []


async def test_bad_message_still_goes_to_the_dead_letter_topic() -> None:
    dead_letters = DeadLetters()
    await make(BadMessage(), dead_letters).process(record())
    assert len(dead_letters.sent) == 1


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        sqlalchemy.exc.OperationalError("x", {}, Exception("server closed the connection")),
    ],
)
def test_infrastructure_failures_are_recognised(error: BaseException) -> None:
    assert is_infrastructure_failure(error)


def test_domain_errors_are_not_infrastructure() -> None:
    wrapped = RuntimeError("handler failed")
    wrapped.__cause__ = KeyError("payable")
    assert not is_infrastructure_failure(wrapped)
    assert not is_infrastructure_failure(ValueError("bad"))


class LedgerAnswering503:
    """A handler whose ledger call spent its retries on 503 answers (a PostgreSQL restart under it)."""

    async def __call__(self, event: IncomingEvent) -> None:
        raise LedgerUnavailableError("POST /transactions: 503: DATABASE_UNAVAILABLE")


async def test_a_ledger_answering_503_through_a_restart_is_waited_for_not_dead_lettered() -> None:
    """Regression (found by the chaos run): a client's own "unavailable" after its retries carries no
    transport error in its cause chain, so it was dead-lettered and its effect lost."""
    dead_letters = DeadLetters()
    with pytest.raises(InfrastructureUnavailableError):
        await make(LedgerAnswering503(), dead_letters).process(record())
    assert dead_letters.sent == []
    assert is_infrastructure_failure(DependencyUnavailableError("payout is down"))
