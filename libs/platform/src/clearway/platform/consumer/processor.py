"""One record to a final outcome: handled, or dead-lettered after bounded, backed-off retries.

Each attempt runs under a time limit and with the event's correlation and causation ids set, so
events the handler produces continue its flow. A record whose last failure is an infrastructure
outage (`failures.is_infrastructure_failure`) is neither handled nor dead-lettered:
`InfrastructureUnavailableError` tells the group loop to rewind and wait. So does a dead letter
that reached `<topic>.dlq` but whose row the database could not take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiokafka import ConsumerRecord
from prometheus_client import Counter

from clearway.platform.consumer.dead_letter import DeadLetterNotRecordedError, DeadLetterSink
from clearway.platform.consumer.events import Handler, IncomingEvent, UndecodableMessageError, parse_record
from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.failures import is_infrastructure_failure
from clearway.platform.retry import BackoffPolicy

logger = logging.getLogger(__name__)

MESSAGES_CONSUMED = Counter(
    "clearway_messages_consumed_total", "Consumed messages by outcome", ["topic", "group", "outcome"]
)

HANDLER_TIMEOUT_MS = 30_000
# Cap of the wait between a handler's attempts.
RETRY_BACKOFF_MS_MAX = 10_000


class Outcome(StrEnum):
    PROCESSED = "processed"
    RETRIED = "retried"
    DEAD_LETTERED = "dead_lettered"


class HandlerTimeoutError(Exception):
    """The handler ran past its time limit; it counts as a failed attempt."""


class InfrastructureUnavailableError(Exception):
    """Handling failed because infrastructure is down; the record must be retried later, not dead-lettered."""


def count(topic: str, group_id: str, outcome: Outcome, records: int = 1) -> None:
    MESSAGES_CONSUMED.labels(topic, group_id, outcome.value).inc(records)


class RecordProcessor:
    """Handles one record to a final outcome: processed, or dead-lettered after bounded retries."""

    def __init__(
        self,
        *,
        group_id: str,
        handler: Handler,
        policy: BackoffPolicy,
        dead_letter: DeadLetterSink,
        sleep_ms: Callable[[int], Awaitable[None]],
        handler_timeout_ms: int = HANDLER_TIMEOUT_MS,
    ) -> None:
        assert handler_timeout_ms >= 1
        assert policy.attempts_max is not None, "a record gets a bounded number of attempts"
        self._handler_timeout_ms = handler_timeout_ms
        self._attempts_max = policy.attempts_max
        self._group_id = group_id
        self._handler = handler
        self._policy = policy
        self._dead_letter = dead_letter
        self._sleep_ms = sleep_ms

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        try:
            event = parse_record(record)
        except UndecodableMessageError as error:
            logger.warning("undecodable record %s-%d@%d", record.topic, record.partition, record.offset)
            await self._send_to_dead_letters(record, f"undecodable: {error}", 0)
            count(record.topic, self._group_id, Outcome.DEAD_LETTERED)
            return Outcome.DEAD_LETTERED
        reason = ""
        last_error: BaseException | None = None
        for attempt in range(1, self._attempts_max + 1):
            try:
                await self._handle(event)
            except Exception as error:
                last_error = error
                reason = f"{type(error).__name__}: {error}"
                logger.warning(
                    "handler failed for %s (attempt %d of %d)", event.id, attempt, self._attempts_max, exc_info=True
                )
                if attempt < self._attempts_max:
                    count(event.topic, self._group_id, Outcome.RETRIED)
                    await self._sleep_ms(self._policy.delay_ms(attempt))
                continue
            count(event.topic, self._group_id, Outcome.PROCESSED)
            return Outcome.PROCESSED
        if last_error is not None and is_infrastructure_failure(last_error):
            # The database or a downstream service is down, not this message: dead-lettering would
            # divert every message of the outage. Stop here; the runner rewinds and waits.
            raise InfrastructureUnavailableError(reason) from last_error
        logger.error("dead-lettering %s after %d attempts: %s", event.id, self._attempts_max, reason)
        await self._send_to_dead_letters(record, reason, self._attempts_max)
        count(event.topic, self._group_id, Outcome.DEAD_LETTERED)
        return Outcome.DEAD_LETTERED

    async def _send_to_dead_letters(self, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> None:
        try:
            await self._dead_letter(record, reason, attempts)
        except DeadLetterNotRecordedError as error:
            raise InfrastructureUnavailableError(str(error)) from error

    async def _handle(self, event: IncomingEvent) -> None:
        # Events produced while handling continue this flow and were caused by this event.
        correlation_token = correlation_id_var.set(event.correlation_id)
        causation_token = causation_id_var.set(event.id)
        try:
            # A hung handler would hold its partition forever; a timeout makes it a failed attempt.
            async with asyncio.timeout(self._handler_timeout_ms / 1000) as deadline:
                try:
                    await self._handler(event)
                except TimeoutError:
                    if deadline.expired():
                        raise HandlerTimeoutError(f"handler took over {self._handler_timeout_ms} ms") from None
                    raise
        finally:
            causation_id_var.reset(causation_token)
            correlation_id_var.reset(correlation_token)
