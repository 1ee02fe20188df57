"""Telling "a dependency is down" from "this request or message is bad", and reporting outages once.

A consumer that meets an infrastructure failure rewinds and waits instead of dead-lettering;
an HTTP request that meets one answers 503 with `Retry-After` instead of 500 (issue 12,
defect 3). `OutageLog` keeps a database restart from writing one traceback per request: it logs
when an outage starts and when the dependency answers again, with how many requests it refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import httpx
import sqlalchemy.exc

from clearway.platform.outages import DependencyUnavailableError

TRANSIENT_ERROR_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
    # A connection left mid-protocol by a server that went away (its rollback failed too): "cannot
    # switch to state 15; another operation is in progress". Found by `make chaos` during a PostgreSQL
    # restart, where it was a 500; nothing was committed, so it is an outage like the others (503).
    asyncpg.exceptions.InternalClientError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    httpx.TransportError,
    # A client's own "the service I call is down" after its retries (a 503 answer carries no
    # transport error in its cause chain): found by the chaos run, where consumers dead-lettered
    # what they were handling while the ledger answered 503 through a PostgreSQL restart.
    DependencyUnavailableError,
)
DATABASE_ERROR_TYPES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlalchemy.exc.SQLAlchemyError,
)
CAUSE_CHAIN_DEPTH_MAX = 10
# A failure this long after the previous one starts a new outage in the log.
OUTAGE_QUIET_PERIOD_S = 30.0
RETRY_AFTER_S = 2


def _cause_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < CAUSE_CHAIN_DEPTH_MAX:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_infrastructure_failure(error: BaseException) -> bool:
    """True when the error (or what caused it) says a dependency is unreachable, not that the input is bad."""
    for current in _cause_chain(error):
        if isinstance(current, TRANSIENT_ERROR_TYPES):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
    return False


def failed_dependency(error: BaseException) -> str:
    """`http` (another service) or `database`: where an infrastructure failure came from.

    httpx wraps every transport failure in its own type; asyncpg lets a refused connection out as
    a bare `OSError`. So anything that is not an httpx failure is taken to be the database.
    """
    if any(isinstance(current, httpx.TransportError | DependencyUnavailableError) for current in _cause_chain(error)):
        return "http"
    return "database"


@dataclass
class _Outage:
    started_at: float
    last_failure_at: float
    refused: int


class OutageLog:
    """One warning when a dependency goes away, one line when it is back; nothing per request."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        meanwhile: str = "answering 503",
        quiet_period_s: float = OUTAGE_QUIET_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._meanwhile = meanwhile  # what the caller does until the dependency is back
        self._quiet_period_s = quiet_period_s
        self._clock = clock
        self._outages: dict[str, _Outage] = {}

    def failed(self, dependency: str, error: BaseException) -> None:
        now = self._clock()
        outage = self._outages.get(dependency)
        if outage is None or now - outage.last_failure_at > self._quiet_period_s:
            outage = _Outage(started_at=now, last_failure_at=now, refused=0)
            self._outages[dependency] = outage
            # The type only: a driver's message can carry a host name or a connection string.
            self._logger.warning(
                "%s unavailable (%s); %s until it is back",
                dependency,
                type(error).__name__,
                self._meanwhile,
                extra={"dependency": dependency, "error_type": type(error).__name__},
            )
        outage.refused += 1
        outage.last_failure_at = now

    def succeeded(self) -> None:
        """A request went through: every outage in progress is over."""
        if not self._outages:
            return
        now = self._clock()
        for dependency, outage in self._outages.items():
            self._logger.warning(
                "%s back after %.1f s; failures meanwhile: %d",
                dependency,
                now - outage.started_at,
                outage.refused,
                extra={"dependency": dependency, "refused": outage.refused},
            )
        self._outages.clear()

    @property
    def in_progress(self) -> frozenset[str]:
        return frozenset(self._outages)
