"""The consumer runner: at-least-once delivery with retries, a dead-letter topic and manual commits.

One aiokafka consumer per group id. Each record is handled in offset order per partition: the
handler gets bounded, backed-off retries; after the last failure the original record goes to
`<topic>.dlq` and the partition moves on, so a poison message never blocks it. Offsets are
committed only for records that were handled (their transaction committed) or dead-lettered.

Plain aiokafka rather than FastStream subscribers (docs/adr/0001-kafka-consumer-runner.md): the
runner needs exact per-partition offset commits and its own retry/dead-letter loop, and
FastStream's Kafka acknowledgement commits the consumer's whole position (and by default before
the handler runs).

The modules, in the order a record meets them:
- `events`: the record read as an `IncomingEvent` (tolerant headers and time), `Handler`, `BatchHandler`;
- `runner`: `ConsumerRunner`, the subscriptions, their consumers and back-off policies;
- `group_loop`: one group's poll loop, exact-offset commits and the outage rewind;
- `batches`: batch subscriptions, with the one-by-one fallback;
- `processor`: `RecordProcessor`, one record's retries to a final outcome;
- `dead_letter`: the `<topic>.dlq` publish and its `ce_dlq*` headers, then the row an operator
  sees (`clearway.platform.dead_letters`).
"""

from __future__ import annotations

from clearway.platform.consumer.dead_letter import DLQ_ATTEMPTS_HEADER as DLQ_ATTEMPTS_HEADER
from clearway.platform.consumer.dead_letter import DLQ_GROUP_HEADER as DLQ_GROUP_HEADER
from clearway.platform.consumer.dead_letter import DLQ_HEADER_PREFIX as DLQ_HEADER_PREFIX
from clearway.platform.consumer.dead_letter import DLQ_OFFSET_HEADER as DLQ_OFFSET_HEADER
from clearway.platform.consumer.dead_letter import DLQ_PARTITION_HEADER as DLQ_PARTITION_HEADER
from clearway.platform.consumer.dead_letter import DLQ_REASON_HEADER as DLQ_REASON_HEADER
from clearway.platform.consumer.dead_letter import DLQ_TOPIC_HEADER as DLQ_TOPIC_HEADER
from clearway.platform.consumer.dead_letter import DeadLetterLog as DeadLetterLog
from clearway.platform.consumer.dead_letter import DeadLetterNotRecordedError as DeadLetterNotRecordedError
from clearway.platform.consumer.dead_letter import DeadLetterSink as DeadLetterSink
from clearway.platform.consumer.dead_letter import dead_letter_headers as dead_letter_headers
from clearway.platform.consumer.events import BatchHandler as BatchHandler
from clearway.platform.consumer.events import Handler as Handler
from clearway.platform.consumer.events import IncomingEvent as IncomingEvent
from clearway.platform.consumer.events import UndecodableMessageError as UndecodableMessageError
from clearway.platform.consumer.events import deterministic_event_id as deterministic_event_id
from clearway.platform.consumer.events import parse_event as parse_event
from clearway.platform.consumer.events import parse_record as parse_record
from clearway.platform.consumer.processor import HandlerTimeoutError as HandlerTimeoutError
from clearway.platform.consumer.processor import InfrastructureUnavailableError as InfrastructureUnavailableError
from clearway.platform.consumer.processor import Outcome as Outcome
from clearway.platform.consumer.processor import RecordProcessor as RecordProcessor
from clearway.platform.consumer.runner import ConsumerRunner as ConsumerRunner
