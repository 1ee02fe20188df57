"""`topup.succeeded` / `topup.failed`: catalogued for funding, keyed by top-up, examples valid, phones masked."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from clearway.contracts import events as ev
from clearway.contracts.catalogue import produced_by, topic, topic_for_event


@pytest.mark.parametrize(("name", "model"), [("topup.succeeded", ev.TopupSucceeded), ("topup.failed", ev.TopupFailed)])
def test_top_up_topics_are_funding_events_keyed_by_top_up(name: str, model: type[BaseModel]) -> None:
    spec = topic(name)
    assert (spec.schema, spec.producer, spec.key, spec.kind, spec.partitions) == (
        model,
        "funding",
        "topup_id",
        "event",
        6,
    )
    assert spec in produced_by("funding")


@pytest.mark.parametrize("model", [ev.TopupSucceeded, ev.TopupFailed])
def test_the_published_examples_are_valid_and_round_trip(model: type[BaseModel]) -> None:
    (example,) = model.model_json_schema()["examples"]
    event = model.model_validate(example)
    assert model.model_validate_json(event.model_dump_json()) == event
    assert topic_for_event(event).name == ("topup.succeeded" if model is ev.TopupSucceeded else "topup.failed")


def test_a_status_query_success_may_lack_the_receipt() -> None:
    (example,) = ev.TopupSucceeded.model_json_schema()["examples"]
    event = ev.TopupSucceeded.model_validate({**example, "receipt": None, "resolved_by": "status_query"})
    assert event.receipt is None


@pytest.mark.parametrize(
    "change",
    [{"amount_minor": 1500.0}, {"amount_minor": -1}, {"currency": "kes"}, {"resolved_by": "guess"}, {"topup_id": ""}],
)
def test_bodies_outside_the_contract_are_refused(change: dict[str, Any]) -> None:
    (example,) = ev.TopupFailed.model_json_schema()["examples"]
    with pytest.raises(ValidationError):
        ev.TopupFailed.model_validate({**example, **change})
