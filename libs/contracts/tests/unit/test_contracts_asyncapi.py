import json
from pathlib import Path
from typing import Any

import pytest

from clearway.contracts.asyncapi import build_asyncapi, main
from clearway.contracts.catalogue import SERVICES, consumed_by, produced_by, topics_for_service

EXPECTED_CHANNELS = {
    "ledger": {
        "ledger.transaction.requested",
        "ledger.entry.requested",
        "ledger.transaction.applied",
        "ledger.transaction.inflight",
        "ledger.transaction.committed",
        "ledger.transaction.voided",
        "ledger.transaction.rejected",
        "ledger.entry.posted",
        "ledger.clearing.cleared",
        "ledger.balance.monitor_triggered",
    },
    "authorization": {
        "card.authorization.decided",
        "card.authorization.expired",
        "statement.closed",
        # Repayments applied, and money for a card account refused (another currency), keyed by account.
        "card.repayment.applied",
        "card.repayment.refused",
        "card.authorization.requested",
        "card.authorization.reversed",
        "card.clearing.posted",
        "card.clearing.received",
        # A bank transfer quoting a card account's repayment reference repays it (seed 002 step 11).
        "transfer.created",
        "ledger.transaction.requested",
        "ledger.transaction.applied",
        "ledger.transaction.inflight",
        "ledger.transaction.committed",
        "ledger.transaction.voided",
        "ledger.transaction.rejected",
    },
}


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/")
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("service", SERVICES)
def test_channels_are_the_topics_the_service_uses(service: str) -> None:
    document = build_asyncapi(service, "1.2.3")
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == "1.2.3"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {spec.name for spec in topics_for_service(service)}
    if service in EXPECTED_CHANNELS:
        assert addresses == EXPECTED_CHANNELS[service]


@pytest.mark.parametrize("service", SERVICES)
def test_operations_send_what_is_produced_and_receive_what_is_consumed(service: str) -> None:
    operations = build_asyncapi(service, "1")["operations"].values()
    document = build_asyncapi(service, "1")
    sent = {resolve(document, op["channel"]["$ref"])["address"] for op in operations if op["action"] == "send"}
    received = {resolve(document, op["channel"]["$ref"])["address"] for op in operations if op["action"] == "receive"}
    assert sent == {spec.name for spec in produced_by(service)}
    assert received == {spec.name for spec in consumed_by(service)}


@pytest.mark.parametrize("service", SERVICES)
def test_every_reference_resolves(service: str) -> None:
    document = build_asyncapi(service, "1", include_dlq=True)
    references: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    assert references
    for reference in references:
        resolve(document, reference)


def test_messages_carry_payload_schema_and_cloudevents_headers() -> None:
    document = build_asyncapi("funding", "1")
    message = document["components"]["messages"]["TransferCreated"]
    payload = resolve(document, message["payload"]["$ref"])
    assert {"transfer_id", "counterparty", "settled_at"} <= set(payload["properties"])
    assert message["headers"]["properties"]["ce_type"]["const"] == "transfer.created"
    assert {"ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time"} <= set(message["headers"]["required"])
    assert message["bindings"]["kafka"]["key"]["description"] == "The body's `transfer_id`."
    assert message["examples"][0]["payload"]["transfer_id"]
    channel = document["channels"]["transfer.created"]
    assert channel["bindings"]["kafka"]["partitions"] == 12


def test_dead_letter_channels_are_optional() -> None:
    addresses = {channel["address"] for channel in build_asyncapi("payout", "1", include_dlq=True)["channels"].values()}
    assert "payable.paid.dlq" in addresses
    assert "payable.paid.dlq" not in build_asyncapi("payout", "1")["channels"]


def test_cli_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "ledger.asyncapi.json"
    assert main(["--service", "ledger", "--out", str(out), "--version", "9.9.9"]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["info"]["title"] == "Clearway ledger"
    assert document == build_asyncapi("ledger", "9.9.9")
