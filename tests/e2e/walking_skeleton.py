"""The walking skeleton, as a processor and an operator see it from outside the platform.

A processor publishes `transfer.created` (CloudEvents binary mode, JSON body, key = transfer_id,
exactly as ARCHITECTURE.md's public contract says); funding must show it as one deposit and
reconciliation as one external transaction, over their HTTP APIs, however often it arrives.

Shared by `test_walking_skeleton.py` (against a platform the test starts) and `demo.py`
(against one `make run` started). Whether a record has been handled is read the way an
operator would: the consumer group's committed offset has passed the record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from clearway.devstack.testing import collect_pages, publish_as_processor, wait_until
from clearway.funding.entrypoints.consumers import TRANSFERS_GROUP_ID as FUNDING_GROUP_ID
from clearway.reconciliation.entrypoints.consumers import TRANSFERS_GROUP_ID as RECONCILIATION_GROUP_ID

SERVICES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation")
TRANSFER_TOPIC = "transfer.created"
PROCESSOR = "acme-bank"
PROCESSOR_SOURCE = "urn:clearway:e2e:acme-bank"
CONSUMER_GROUPS = {"funding": FUNDING_GROUP_ID, "reconciliation": RECONCILIATION_GROUP_ID}
WAIT_TIMEOUT_S = 90.0
POLL_INTERVAL_S = 0.25
HTTP_TIMEOUT_S = 10.0

Report = Callable[[str], None]


def new_transfer(amount_minor: int, *, reference: str | None = None, currency: str = "USD") -> dict[str, Any]:
    """A `transfer.created` body as a processor writes it (every documented field present)."""
    return {
        "transfer_id": f"trf_{uuid.uuid4().hex[:16]}",
        "processor": PROCESSOR,
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": currency,
        "account_id": f"acct_operating_{currency.lower()}",
        "payment_reference": reference,
        "counterparty": {"name": "Globex Finance", "account": "021000021-99887766"},
        "settled_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Published:
    event_id: str
    transfer_id: str
    partition: int
    offset: int


class Processor:
    """An outside processor: a plain Kafka producer that knows the public contract and nothing else."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", client_id="e2e-processor")

    async def __aenter__(self) -> Self:
        try:
            await self._producer.start()
        except BaseException:
            await self._producer.stop()  # a failed start still holds a client to close
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._producer.stop()

    async def publish(self, body: Mapping[str, Any], *, event_id: str) -> Published:
        transfer_id = str(body["transfer_id"])
        metadata = await publish_as_processor(
            self._producer, TRANSFER_TOPIC, body, key=transfer_id, event_id=event_id, source=PROCESSOR_SOURCE
        )
        return Published(event_id, transfer_id, metadata.partition, metadata.offset)


class PlatformApi:
    """The services' HTTP APIs, called with an API key as any client would."""

    def __init__(self, urls: Mapping[str, str], api_key: str) -> None:
        self.urls = dict(urls)
        self._client = httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=HTTP_TIMEOUT_S)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def readiness(self) -> dict[str, int]:
        async def status(service: str) -> int:
            try:
                response = await self._client.get(f"{self.urls[service]}/health/ready")
            except httpx.HTTPError:
                return 0
            return response.status_code

        codes = await asyncio.gather(*(status(service) for service in self.urls))
        return dict(zip(self.urls, codes, strict=True))

    async def deposits_for(self, transfer_id: str) -> list[dict[str, Any]]:
        return await self._matching(f"{self.urls['funding']}/deposits", {"linked": "false"}, transfer_id)

    async def external_transactions_for(self, transfer_id: str) -> list[dict[str, Any]]:
        return await self._matching(f"{self.urls['reconciliation']}/external-transactions", {}, transfer_id)

    async def _matching(self, url: str, filters: Mapping[str, str], transfer_id: str) -> list[dict[str, Any]]:
        """Every item on every page whose transfer_id matches: duplicates would show up here."""
        return await collect_pages(
            self._client, url, params=filters, keep=lambda item: item["transfer_id"] == transfer_id
        )


async def committed_offsets(
    bootstrap_servers: str, group_id: str, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """The group's committed offsets (-1 where none). Partitions are named explicitly: fetching
    "all of them" is an OffsetFetch form the embedded broker does not answer."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="e2e-operator")
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id, partitions=list(partitions))
    finally:
        await admin.close()
    return {partition: position.offset for partition, position in offsets.items()}


async def wait_until_consumed(
    bootstrap_servers: str, group_id: str, records: Sequence[Published], *, timeout_s: float = WAIT_TIMEOUT_S
) -> None:
    """Offsets commit only after the handler's transaction did, so past the record means handled."""
    wanted: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(TRANSFER_TOPIC, record.partition)
        wanted[partition] = max(record.offset, wanted.get(partition, -1))

    async def consumed() -> bool:
        committed = await committed_offsets(bootstrap_servers, group_id, list(wanted))
        return all(committed.get(partition, -1) > offset for partition, offset in wanted.items())

    await wait_until(
        consumed, f"{group_id} has handled {len(records)} record(s)", timeout_s=timeout_s, interval_s=POLL_INTERVAL_S
    )


def expect_one(items: Sequence[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(items) != 1:
        raise AssertionError(f"expected exactly one {what}, found {len(items)}: {items}")
    return items[0]


async def expect_all_ready(api: PlatformApi, report: Report) -> None:
    statuses = await api.readiness()
    report("readiness: " + ", ".join(f"{service}={code}" for service, code in statuses.items()))
    not_ready = {service: code for service, code in statuses.items() if code != 200}
    if not_ready:
        raise AssertionError(f"services not ready: {not_ready}")


async def expect_recorded_once(
    api: PlatformApi, body: Mapping[str, Any], report: Report, *, wait: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One deposit on funding and one external transaction on reconciliation, both matching `body`."""
    transfer_id = str(body["transfer_id"])
    if wait:

        async def visible_on_both() -> bool:
            deposits = await api.deposits_for(transfer_id)
            transactions = await api.external_transactions_for(transfer_id)
            return bool(deposits) and bool(transactions)

        await wait_until(
            visible_on_both,
            f"{transfer_id} is visible on funding and reconciliation",
            timeout_s=WAIT_TIMEOUT_S,
            interval_s=POLL_INTERVAL_S,
        )
    deposit = expect_one(await api.deposits_for(transfer_id), f"deposit for {transfer_id}")
    transaction = expect_one(
        await api.external_transactions_for(transfer_id), f"external transaction for {transfer_id}"
    )
    for seen, service in ((deposit, "funding"), (transaction, "reconciliation")):
        shown = (seen["amount_minor"], seen["currency"], seen["processor"], seen["account_id"])
        sent = (body["amount_minor"], body["currency"], body["processor"], body["account_id"])
        if shown != sent:
            raise AssertionError(f"{service} shows {shown} for {transfer_id}, the processor sent {sent}")
    if (deposit["status"], transaction["status"]) != ("unlinked", "unreconciled"):
        raise AssertionError(f"unexpected statuses: deposit {deposit['status']}, transaction {transaction['status']}")
    report(
        f"{transfer_id}: funding deposit {deposit['id']} ({deposit['status']}), "
        f"reconciliation {transaction['id']} ({transaction['status']}), "
        f"{body['amount_minor']} {body['currency']} minor units"
    )
    return deposit, transaction


async def publish_and_observe(
    processor: Processor, api: PlatformApi, report: Report, *, amount_minor: int
) -> tuple[dict[str, Any], Published, tuple[dict[str, Any], dict[str, Any]]]:
    """A new settled transfer, published once, shows up once on both services."""
    body = new_transfer(amount_minor, reference="INV-E2E")
    published = await processor.publish(body, event_id=new_event_id())
    report(f"published transfer.created {body['transfer_id']} (ce_id {published.event_id})")
    recorded = await expect_recorded_once(api, body, report)
    return body, published, recorded


async def republish_and_expect_no_change(
    processor: Processor,
    api: PlatformApi,
    bootstrap_servers: str,
    body: Mapping[str, Any],
    first: Published,
    recorded: tuple[dict[str, Any], dict[str, Any]],
    report: Report,
    *,
    group_prefix: str = "",
) -> None:
    """A redelivery (same ce_id) and a processor retry (new ce_id, same transfer_id) change nothing.

    `group_prefix` is the platform's `KAFKA_CONSUMER_GROUP_PREFIX` (empty for `make run`).
    """
    redelivery = await processor.publish(body, event_id=first.event_id)
    retry = await processor.publish(body, event_id=new_event_id())
    report(f"re-published {body['transfer_id']}: same ce_id {first.event_id}, then a retry with ce_id {retry.event_id}")
    for group_id in CONSUMER_GROUPS.values():
        await wait_until_consumed(bootstrap_servers, group_prefix + group_id, [redelivery, retry])
    if await expect_recorded_once(api, body, report, wait=False) != recorded:
        raise AssertionError("the deposit or external transaction changed across duplicate deliveries")
