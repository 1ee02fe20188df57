"""AsyncAPI 3.0 documents for the topics one service produces and consumes, built from the catalogue.

    python -m clearway.contracts.asyncapi --service ledger --out ledger.asyncapi.json

Each topic is a channel (Kafka channel binding with its partition count), each message a payload
JSON Schema plus the CloudEvents binary-mode headers, and the service `send`s what it produces and
`receive`s what it consumes. An operation the catalogue lists as planned (the service's code does
not do it yet) says so in its description and in `x-clearway-planned: true`. JSON is valid YAML, so
the output may be named `.yaml` as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from .catalogue import SERVICES, TopicSpec, dlq_topic, topics_for_service
from .cloudevents import (
    CONTENT_TYPE_HEADER,
    DEFAULT_CONTENT_TYPE,
    OPTIONAL_ATTRIBUTES,
    REQUIRED_ATTRIBUTES,
    SPEC_VERSION,
    header_name,
)

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
COMPONENT_REF_TEMPLATE = "#/components/schemas/{model}"
PLANNED_EXTENSION = "x-clearway-planned"
PLANNED_DESCRIPTION = "Planned: the contract names it, the service's code does not do it yet."


def cloudevents_headers_schema(event_type: str) -> dict[str, Any]:
    """The Kafka headers of a binary-mode CloudEvent whose `type` is `event_type`."""

    def text(description: str) -> dict[str, Any]:
        return {"type": "string", "description": description}

    descriptions: dict[str, dict[str, Any]] = {
        "id": text("Event id, unique per source; consumers deduplicate on it."),
        "source": text("URI-reference of the producer, e.g. clearway.ledger."),
        "type": {**text("The event type: the topic name."), "const": event_type},
        "specversion": {**text("CloudEvents version."), "const": SPEC_VERSION},
        "time": {**text("When it happened (RFC 3339)."), "format": "date-time"},
        "subject": text("The aggregate the event is about."),
        "correlationid": text("Extension: id shared by every event of one flow."),
        "causationid": text("Extension: id of the event or request that caused this one."),
    }
    assert set(descriptions) == {*REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES}, "describe every codec attribute"
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka headers (binary content mode), UTF-8 values.",
        # Header names come from the one codec, so this document cannot drift from what is sent.
        "required": [header_name(attribute) for attribute in REQUIRED_ATTRIBUTES],
        "properties": {
            **{header_name(attribute): schema for attribute, schema in descriptions.items()},
            CONTENT_TYPE_HEADER: {**text("datacontenttype"), "default": DEFAULT_CONTENT_TYPE},
        },
    }


def build_asyncapi(service: str, version: str, *, include_dlq: bool = False) -> dict[str, Any]:
    """An AsyncAPI 3.0 document (as a dict) for `service`'s topics, in catalogue order."""
    specs = topics_for_service(service)
    assert specs, f"{service} neither produces nor consumes any topic"
    payload_refs, definitions = models_json_schema(
        [(spec.schema, "validation") for spec in specs], ref_template=COMPONENT_REF_TEMPLATE
    )
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in specs:
        message_name = spec.schema.__name__
        messages[message_name] = _message(spec, payload_refs[(spec.schema, "validation")])
        channels[spec.name] = _channel(spec.name, spec.partitions, spec.description, message_name)
        if service in spec.producers:
            planned = service in spec.planned_producers
            operations[f"send_{spec.name}"] = _operation("send", spec.name, message_name, planned=planned)
        if service in spec.consumers:
            planned = service in spec.planned_consumers
            operations[f"receive_{spec.name}"] = _operation("receive", spec.name, message_name, planned=planned)
            if include_dlq:
                dead_letters = dlq_topic(spec.name)
                description = f"Messages from {spec.name} that {service} failed to process after bounded retries."
                channels[dead_letters] = _channel(dead_letters, spec.partitions, description, message_name)
                operations[f"send_{dead_letters}"] = _operation("send", dead_letters, message_name, planned=planned)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:clearway:{service}",
        "info": {
            "title": f"Clearway {service}",
            "version": version,
            "description": (
                f"Kafka topics the {service} service produces and consumes. Bodies are JSON; CloudEvents "
                "1.0 attributes travel in `ce_*` headers; the record key is the aggregate id named per message."
            ),
        },
        "defaultContentType": DEFAULT_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": definitions.get("$defs", {})},
    }


def _message(spec: TopicSpec, payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": spec.schema.__name__,
        "title": spec.name,
        "summary": spec.description,
        "contentType": DEFAULT_CONTENT_TYPE,
        "headers": cloudevents_headers_schema(spec.event_type),
        "payload": payload,
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The body's `{spec.key}`."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    examples = spec.schema.model_json_schema(mode="validation").get("examples")
    if isinstance(examples, list):
        message["examples"] = [{"payload": example} for example in examples]
    return message


def _channel(address: str, partitions: int, description: str, message_name: str) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "messages": {message_name: {"$ref": f"#/components/messages/{message_name}"}},
        "bindings": {"kafka": {"topic": address, "partitions": partitions, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(action: str, channel: str, message_name: str, *, planned: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{_pointer(channel)}"},
        "messages": [{"$ref": f"#/channels/{_pointer(channel)}/messages/{message_name}"}],
    }
    if planned:
        operation["description"] = PLANNED_DESCRIPTION
        operation[PLANNED_EXTENSION] = True
    return operation


def _pointer(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _default_version() -> str:
    try:
        return metadata.version("clearway-contracts")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clearway.contracts.asyncapi", description=__doc__)
    parser.add_argument("--service", required=True, choices=SERVICES)
    parser.add_argument("--out", type=Path, help="file to write; standard output if absent or '-'")
    parser.add_argument("--version", default=None, help="document version (default: the package version)")
    parser.add_argument("--include-dlq", action="store_true", help="also describe the dead-letter topics")
    arguments = parser.parse_args(argv)
    document = build_asyncapi(
        arguments.service, arguments.version or _default_version(), include_dlq=arguments.include_dlq
    )
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if arguments.out is None or str(arguments.out) == "-":
        sys.stdout.write(text)
    else:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(text, encoding="utf-8")
        print(f"wrote AsyncAPI {ASYNCAPI_VERSION} for {arguments.service} to {arguments.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
