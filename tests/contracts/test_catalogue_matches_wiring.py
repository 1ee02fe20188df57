"""The topic catalogue cannot lie: each service's wiring and code against what the catalogue says.

- Consuming: the topics each service's `create_app` subscribes its `ServiceRuntime` to (the app is
  built, never started, so nothing connects) are exactly the catalogue's wired consumers of that
  service (`consumed_by(service, include_planned=False)`).
- Publishing: every event goes into a service's outbox under a topic its code names, either a
  catalogue lookup or literal (`topic("topup.succeeded")`, `"ledger.entry.posted"`) or a message
  model it builds (`TopupSucceeded.model_validate(...)`), which `topic_for_event` maps to the
  model's one topic. Incoming messages are read only in the subscription module
  (`entrypoints/consumers.py`, which turns them into the service's own commands) and, where a service
  has one, its command-parsing module (`service/commands.py`, which consumers.py calls to do that
  turning and which names the incoming message classes it parses), so elsewhere a topic name or
  message class appears only where the service writes that message. The topics a service can
  publish are therefore read from its package's source: topic names as string literals and
  references to catalogue message classes, outside `entrypoints/consumers.py` (and, in
  `service/commands.py`, topic names only). They must be
  exactly the catalogue's wired producers of that service, which is also what
  `clearway.platform.publishing` lets it publish at run time.
- Documents: each service's AsyncAPI document sends and receives exactly what the catalogue says,
  with the planned operations marked, and a document written by `make asyncapi` under docs/asyncapi/
  must equal the generated one.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from clearway.contracts.asyncapi import PLANNED_EXTENSION, build_asyncapi
from clearway.contracts.catalogue import CATALOGUE, SERVICES, TopicSpec, consumed_by, produced_by
from clearway.platform.publishing import (
    TopicNotProducedError,
    published_topics,
    require_produced_by,
    service_for_source,
)
from clearway.platform.runtime import runtime_of

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_DOCS = ROOT / "docs" / "asyncapi"
SUBSCRIPTION_MODULE = Path("entrypoints") / "consumers.py"
COMMAND_PARSING_MODULE = Path("service") / "commands.py"  # reads incoming message classes, writes none
UNREACHABLE_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/unused"
UNREACHABLE_KAFKA = "127.0.0.1:1"

TOPIC_NAMES = {spec.name for spec in CATALOGUE}
TOPIC_OF_MODEL = {spec.schema.__name__: spec.name for spec in CATALOGUE}


def names(specs: tuple[TopicSpec, ...]) -> set[str]:
    return {spec.name for spec in specs}


def differences(found: set[str], catalogued: set[str]) -> str:
    return (
        f"in the code, not in the catalogue: {sorted(found - catalogued)}; "
        f"in the catalogue, not in the code: {sorted(catalogued - found)}"
    )


def build_app(service: str) -> FastAPI:
    """`clearway.<service>.main.create_app(settings)`, pointed at nothing: building connects nowhere."""
    main = importlib.import_module(f"clearway.{service}.main")
    config = importlib.import_module(f"clearway.{service}.config")
    settings_class = getattr(config, f"{service.capitalize()}Settings")
    settings = settings_class(
        database_url=UNREACHABLE_DATABASE_URL, kafka_bootstrap_servers=UNREACHABLE_KAFKA, log_json=False
    )
    app = main.create_app(settings)
    assert isinstance(app, FastAPI)
    return app


@asynccontextmanager
async def ledger_lifespan_without_io(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The ledger subscribes in its lifespan (its handlers need the pool and pipeline made there):
    run that lifespan with the pool, pipeline, sweeper and runtime start/stop replaced by inert
    stand-ins, so its own subscription code runs and nothing connects."""
    import clearway.ledger.main as ledger_main

    class InertPool:
        async def close(self) -> None:
            return None

    class InertPipeline:
        def __init__(self, *args: object, **kwargs: object) -> None:
            return None

        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            return None

    async def inert_create_pool(*args: object, **kwargs: object) -> InertPool:
        return InertPool()

    async def inert_sweeper(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    async def nothing() -> None:
        return None

    runtime = runtime_of(app)
    monkeypatch.setattr(ledger_main, "create_pool", inert_create_pool)
    monkeypatch.setattr(ledger_main, "PostingPipeline", InertPipeline)
    monkeypatch.setattr(ledger_main, "run_sweeper", inert_sweeper)
    monkeypatch.setattr(runtime, "start", nothing)
    monkeypatch.setattr(runtime, "stop", nothing)
    async with app.router.lifespan_context(app):
        yield


async def subscribed_topics(service: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    app = build_app(service)
    runtime = runtime_of(app)
    assert runtime.settings.service_name == service
    if service == "ledger":
        async with ledger_lifespan_without_io(app, monkeypatch):
            subscriptions = list(runtime.subscriptions)
    else:
        subscriptions = list(runtime.subscriptions)
    topics = [subscription.topic for subscription in subscriptions]
    assert len(topics) == len(set(topics)), f"{service} subscribes to a topic twice: {topics}"
    return set(topics)


def source_files(service: str) -> Iterator[tuple[Path, ast.Module]]:
    package = ROOT / "services" / service / "src" / "clearway" / service
    assert (package / "main.py").is_file(), package
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package) != SUBSCRIPTION_MODULE:
            yield path.relative_to(package), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def published_by_code(service: str) -> set[str]:
    """Topics the service's code outside its subscription module names: by literal or message class."""
    topics: set[str] = set()
    for path, tree in source_files(service):
        parses_commands = path == COMMAND_PARSING_MODULE
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in TOPIC_NAMES:
                topics.add(node.value)
            elif parses_commands:
                continue
            elif isinstance(node, ast.Name) and node.id in TOPIC_OF_MODEL:
                topics.add(TOPIC_OF_MODEL[node.id])
            elif isinstance(node, ast.Attribute) and node.attr in TOPIC_OF_MODEL:
                topics.add(TOPIC_OF_MODEL[node.attr])
    return topics


@pytest.mark.parametrize("service", SERVICES)
async def test_subscriptions_are_the_catalogued_consumers(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    subscribed = await subscribed_topics(service, monkeypatch)
    catalogued = names(consumed_by(service, include_planned=False))
    assert subscribed == catalogued, f"{service} consumers: {differences(subscribed, catalogued)}"


@pytest.mark.parametrize("service", SERVICES)
def test_published_topics_are_the_catalogued_producers(service: str) -> None:
    published = published_by_code(service)
    catalogued = names(produced_by(service, include_planned=False))
    assert published == catalogued, f"{service} producers: {differences(published, catalogued)}"
    assert published_topics(service) == catalogued


@pytest.mark.parametrize("service", SERVICES)
def test_the_runtime_publishes_only_the_catalogued_topics(service: str) -> None:
    runtime = runtime_of(build_app(service))
    assert runtime.produces == names(produced_by(service, include_planned=False))
    for spec in CATALOGUE:
        if service in spec.wired_producers:
            require_produced_by(service, spec.name)
        else:
            with pytest.raises(TopicNotProducedError):
                require_produced_by(service, spec.name)


def test_funding_sends_no_ledger_command() -> None:
    """Funding calls the ledger's HTTP API; the catalogue once said it sent `ledger.transaction.requested`."""
    assert "funding" not in produced_by_names("ledger.transaction.requested")
    with pytest.raises(TopicNotProducedError):
        require_produced_by("funding", "ledger.transaction.requested")


def produced_by_names(topic_name: str) -> tuple[str, ...]:
    return next(spec.producers for spec in CATALOGUE if spec.name == topic_name)


def operations(document: dict[str, Any], action: str, *, planned: bool) -> set[str]:
    found = set()
    for operation in document["operations"].values():
        if operation["action"] == action and bool(operation.get(PLANNED_EXTENSION)) == planned:
            pointer = operation["channel"]["$ref"].removeprefix("#/channels/")
            found.add(document["channels"][pointer.replace("~1", "/").replace("~0", "~")]["address"])
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_asyncapi_document_says_what_the_catalogue_and_code_do(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = build_asyncapi(service, "0")
    wired_producers = names(produced_by(service, include_planned=False))
    wired_consumers = names(consumed_by(service, include_planned=False))
    assert operations(document, "send", planned=False) == wired_producers == published_by_code(service)
    assert operations(document, "send", planned=True) == names(produced_by(service)) - wired_producers
    assert operations(document, "receive", planned=False) == wired_consumers
    assert wired_consumers == await subscribed_topics(service, monkeypatch)
    assert operations(document, "receive", planned=True) == names(consumed_by(service)) - wired_consumers


@pytest.mark.parametrize("service", SERVICES)
def test_written_asyncapi_document_is_current(service: str) -> None:
    path = ASYNCAPI_DOCS / f"{service}.json"
    if not path.exists():
        return  # not committed; `make asyncapi` writes it
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == build_asyncapi(service, written["info"]["version"]), f"{path} is stale: run `make asyncapi`"


def test_event_sources_name_their_service() -> None:
    """What the outbox can pass to `require_produced_by`: the service from an event's source."""
    assert service_for_source("clearway.funding") == "funding"
    assert service_for_source("clearway.ledger") == "ledger"
    for source in ("test", "clearway.billing", "funding"):
        with pytest.raises(ValueError):
            service_for_source(source)
