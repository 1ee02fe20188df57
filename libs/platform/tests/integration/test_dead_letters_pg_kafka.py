"""Dead letters an operator can see: the runner records each one in the service's PostgreSQL
exactly once (a crash before the commit redelivers it to the DLQ, not to the table), and
`GET /admin/dead-letters` pages and counts them by role."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clearway.devstack.testing import wait_until
from clearway.platform.auth import hash_api_key
from clearway.platform.consumer import IncomingEvent
from clearway.platform.dead_letters import DeadLetterEntry, Recorded, SqlDeadLetterLog, dead_letter_entry
from clearway.platform.dead_letters.repository import record_dead_letter
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.http import create_http_app
from clearway.platform.kafka import dlq_topic, ensure_topics
from clearway.platform.settings import ServiceSettings
from clearway.platform.tables import dead_letters

from .test_consumer_runner_kafka import read_all, runner_for, send

pytestmark = pytest.mark.integration

ROLE_KEYS = {role: f"ck_dead_letters_{role}" for role in ("operator", "read_only", "approver", "service")}


@pytest.fixture
async def topic(kafka_bootstrap_servers: str, unique_topic: Callable[[str], str]) -> str:
    name = unique_topic("transfer.created")
    await ensure_topics(kafka_bootstrap_servers, [(name, 1)])
    return name


@pytest.fixture
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka_producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await kafka_producer.start()
    yield kafka_producer
    await kafka_producer.stop()


def entry(topic: str, offset: int, *, event_id: str = "evt_1", group_id: str = "funding.transfers") -> DeadLetterEntry:
    return dead_letter_entry(
        group_id=group_id,
        topic=topic,
        partition=0,
        offset=offset,
        key=b"acc_1",
        value=orjson.dumps({"phone": "+254712345678", "n": offset}),
        headers=[("ce_id", event_id.encode()), ("ce_type", topic.encode())],
        reason="ValueError: cannot apply this",
        attempts=5,
    )


class CrashesOnce:
    """Records, then fails as if the process died before the offset commit (the loop ends)."""

    def __init__(self, log: SqlDeadLetterLog) -> None:
        self._log = log
        self.crashed = False

    async def record(self, dead_letter: DeadLetterEntry) -> object:
        recorded = await self._log.record(dead_letter)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed between the row and the commit")
        return recorded


async def rows(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as connection:
        return [dict(row) for row in (await connection.execute(select(dead_letters))).mappings()]


async def test_a_poison_message_ends_in_the_table_exactly_once_even_when_redelivered(
    kafka_bootstrap_servers: str, producer: AIOKafkaProducer, topic: str, engine: AsyncEngine
) -> None:
    group_id = f"g-{topic}"
    handled: list[str] = []

    async def handler(event: IncomingEvent) -> None:
        if event.payload["name"] == "poison":
            raise ValueError("cannot apply this")
        handled.append(event.payload["name"])

    crashing = CrashesOnce(SqlDeadLetterLog(engine))
    first = runner_for(kafka_bootstrap_servers, dead_letter_log=crashing)  # type: ignore[arg-type]
    first.add(topic, group_id, handler)
    await first.start()
    try:
        await send(producer, topic, "before")
        poison_id = await send(producer, topic, "poison")
        await send(producer, topic, "after")
        await wait_until(lambda: not first.healthy(), "the loop ended at the crash", timeout_s=20, interval_s=0.02)
    finally:
        await first.stop()
    assert handled == ["before"]

    second = runner_for(kafka_bootstrap_servers, dead_letter_log=SqlDeadLetterLog(engine))  # type: ignore[arg-type]
    second.add(topic, group_id, handler)
    await second.start()
    try:
        await wait_until(
            lambda: handled == ["before", "after"], "the partition moved on", timeout_s=20, interval_s=0.02
        )
    finally:
        await second.stop()

    copies = await read_all(kafka_bootstrap_servers, dlq_topic(topic), expected=2)
    assert len(copies) == 2, "at-least-once on the DLQ topic: the redelivery published it again"
    [row] = await rows(engine)
    assert row["event_id"] == poison_id and row["topic"] == topic and row["group_id"] == group_id
    assert (row["partition"], row["offset"], row["attempts"]) == (0, 1, 3)
    assert row["reason"] == "ValueError: cannot apply this" and row["message_key"] == "acc_1"
    assert orjson.loads(str(row["payload_preview"])) == {"name": "poison"}


async def test_the_same_place_is_one_row_and_a_new_record_there_takes_it(engine: AsyncEngine) -> None:
    log = SqlDeadLetterLog(engine)
    assert await log.record(entry("payable.paid", 7)) is Recorded.INSERTED
    assert await log.record(entry("payable.paid", 7)) is Recorded.REPEAT
    [first] = await rows(engine)
    # The embedded broker lost its log; offsets started over and another record dead-letters at 7.
    assert await log.record(entry("payable.paid", 7, event_id="evt_2")) is Recorded.REPLACED
    [replaced] = await rows(engine)
    assert replaced["event_id"] == "evt_2" and str(replaced["id"]) > str(first["id"])
    async with engine.begin() as connection:
        assert await record_dead_letter(connection, entry("payable.paid", 7, group_id="other")) is Recorded.INSERTED


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    keys = [{"name": role, "key_sha256": hash_api_key(key), "roles": [role]} for role, key in ROLE_KEYS.items()]
    settings = ServiceSettings.model_validate({"CLEARWAY_API_KEYS": json.dumps(keys)})
    app = create_http_app(settings=settings, title="t", version="0", routers=[dead_letters_router()])
    app.state.engine = engine  # a service's lifespan sets it (ServiceRuntime.install)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def as_role(role: str) -> dict[str, str]:
    return {"X-API-Key": ROLE_KEYS[role]}


async def test_operators_page_filter_and_count_dead_letters(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    log = SqlDeadLetterLog(engine)
    for offset in range(5):
        await log.record(entry("payable.paid", offset, event_id=f"evt_{offset}"))
    await log.record(entry("transfer.created", 0))

    first = await client.get("/admin/dead-letters", params={"limit": 4}, headers=as_role("operator"))
    assert first.status_code == 200
    page = first.json()
    assert page["has_more"] is True and len(page["data"]) == 4
    assert page["data"][0]["topic"] == "transfer.created", "newest first"
    assert "+254712345678" not in first.text and "+254******678" in first.text
    rest = await client.get(
        "/admin/dead-letters",
        params={"limit": 4, "starting_after": page["data"][-1]["id"]},
        headers=as_role("read_only"),
    )
    assert rest.json()["has_more"] is False and len(rest.json()["data"]) == 2
    filtered = await client.get("/admin/dead-letters", params={"topic": "payable.paid"}, headers=as_role("operator"))
    assert [item["offset"] for item in filtered.json()["data"]] == [4, 3, 2, 1, 0]

    counted = await client.get("/admin/dead-letters/count", headers=as_role("read_only"))
    assert counted.json() == {"total": 6, "by_topic": {"payable.paid": 5, "transfer.created": 1}}
    one = await client.get(f"/admin/dead-letters/{page['data'][0]['id']}", headers=as_role("operator"))
    assert one.json()["event_type"] == "transfer.created" and one.json()["attempts"] == 5


async def test_other_roles_and_unknown_ids_get_problems(client: httpx.AsyncClient) -> None:
    for role in ("approver", "service"):
        refused = await client.get("/admin/dead-letters/count", headers=as_role(role))
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/admin/dead-letters")).status_code == 401
    missing = await client.get("/admin/dead-letters/dlq_nope", headers=as_role("operator"))
    assert missing.status_code == 404 and missing.json()["code"] == "DEAD_LETTER_NOT_FOUND"
    unknown = await client.get("/admin/dead-letters", params={"limit": 0}, headers=as_role("operator"))
    assert unknown.status_code == 400
