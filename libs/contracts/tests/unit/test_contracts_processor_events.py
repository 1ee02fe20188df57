"""The processor-facing bodies are a public contract: ARCHITECTURE's table, field for field."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from clearway.contracts.events import (
    CardAuthorizationRequested,
    CardAuthorizationReversed,
    CardClearingReceived,
    TransferCreated,
)

# Example bodies carrying exactly the fields in ARCHITECTURE "Events that outside processors publish".
TRANSFER_CREATED: dict[str, Any] = {
    "transfer_id": "bank-txn-9912",
    "processor": "acme-bank",
    "direction": "inbound",
    "amount_minor": 125000,
    "currency": "USD",
    "account_id": "acct_operating_usd",
    "payment_reference": "FND-2024-0042",
    "counterparty": {"name": "Globex Finance", "account": None},
    "settled_at": "2024-05-02T14:03:00Z",
}
CARD_AUTHORIZATION_REQUESTED: dict[str, Any] = {
    "authorization_id": "auth_5521",
    "card_id": "card_01",
    "amount_minor": 200000,
    "currency": "USD",
    "merchant_name": "ATM 42 Main St",
    "merchant_category_code": "6011",
    "channel": "atm",
    "requested_at": "2024-05-02T09:15:27.5+01:00",
}
CARD_AUTHORIZATION_REVERSED: dict[str, Any] = {
    "authorization_id": "auth_5521",
    "card_id": "card_01",
    "amount_minor": 50000,
    "reversed_at": "2024-05-02T10:00:00Z",
}
CARD_CLEARING_RECEIVED: dict[str, Any] = {
    "clearing_id": "clr_7781",
    "authorization_id": None,
    "card_id": "card_01",
    "amount_minor": 198500,
    "currency": "USD",
    "merchant_name": "Corner Coffee",
    "merchant_category_code": "5814",
    "cleared_at": "2024-05-03T02:00:00Z",
}
# Fields added to the public contract after ARCHITECTURE.md's table (optional, documented in the
# owning service's README).
ADDED_SINCE_THE_TABLE = {"CardAuthorizationRequested": {"incremental_of"}}
TABLE: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (TransferCreated, TRANSFER_CREATED),
    (CardAuthorizationRequested, CARD_AUTHORIZATION_REQUESTED),
    (CardAuthorizationReversed, CARD_AUTHORIZATION_REVERSED),
    (CardClearingReceived, CARD_CLEARING_RECEIVED),
]


@pytest.mark.parametrize(("model", "body"), TABLE)
def test_fields_are_the_architecture_table_and_anything_added_is_optional(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    # The table's fields are all there, under their names; a field added since (the contract allows
    # additions, e.g. `incremental_of`) is optional, so a processor written against the table still
    # sends valid events.
    assert set(model.model_fields) >= set(body)
    added = set(model.model_fields) - set(body)
    assert not [name for name in added if model.model_fields[name].is_required()]
    assert ADDED_SINCE_THE_TABLE.get(model.__name__, set()) == added


@pytest.mark.parametrize(("model", "body"), TABLE)
def test_example_bodies_parse_and_round_trip(model: type[BaseModel], body: dict[str, Any]) -> None:
    parsed = model.model_validate(body)
    assert model.model_validate_json(parsed.model_dump_json()) == parsed


@pytest.mark.parametrize(("model", "body"), TABLE)
def test_unknown_fields_added_later_are_ignored(model: type[BaseModel], body: dict[str, Any]) -> None:
    parsed = model.model_validate({**body, "added_in_a_later_version": {"x": 1}})
    assert "added_in_a_later_version" not in parsed.model_dump()


@pytest.mark.parametrize("model", [model for model, _ in TABLE])
def test_published_schema_examples_parse(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)


def test_transfer_details() -> None:
    transfer = TransferCreated.model_validate_json(
        '{"transfer_id":"t1","processor":"mpesa","direction":"outbound","amount_minor":5,'
        '"currency":"KES","account_id":"wallet","counterparty":{},"settled_at":"2024-05-02T14:03:00Z"}'
    )
    assert transfer.payment_reference is None
    assert transfer.counterparty.name is None and transfer.counterparty.account is None
    assert transfer.settled_at.utcoffset() is not None


def test_reversal_without_amount_means_the_full_amount() -> None:
    body = {key: value for key, value in CARD_AUTHORIZATION_REVERSED.items() if key != "amount_minor"}
    assert CardAuthorizationReversed.model_validate(body).amount_minor is None


def test_force_post_clearing_may_omit_the_authorization() -> None:
    body = {key: value for key, value in CARD_CLEARING_RECEIVED.items() if key != "authorization_id"}
    assert CardClearingReceived.model_validate(body).authorization_id is None


@pytest.mark.parametrize(
    "change",
    [
        {"amount_minor": "125000"},  # money is an integer, never a string
        {"amount_minor": 1250.5},
        {"amount_minor": -1},
        {"currency": "usd"},
        {"currency": "US"},
        {"direction": "sideways"},
        {"settled_at": "2024-05-02T14:03:00"},  # naive
        {"counterparty": None},
    ],
)
def test_invalid_transfer_bodies_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TransferCreated.model_validate({**TRANSFER_CREATED, **change})


@pytest.mark.parametrize("change", [{"channel": "moto"}, {"merchant_category_code": "58"}])
def test_invalid_authorization_bodies_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CardAuthorizationRequested.model_validate({**CARD_AUTHORIZATION_REQUESTED, **change})
