"""`card.repayment.applied` and `card.repayment.refused`: keyed by card account, their examples valid,
money strict, and a refusal only for the stable reasons."""

from typing import Any

import pytest
from pydantic import ValidationError

from clearway.contracts import events as ev
from clearway.contracts.catalogue import topic, topic_for_event


def _example(model: type[Any]) -> dict[str, Any]:
    examples: list[dict[str, Any]] = model.model_config["json_schema_extra"]["examples"]
    return dict(examples[0])


@pytest.mark.parametrize("model", [ev.CardRepaymentApplied, ev.CardRepaymentRefused])
def test_the_examples_are_valid_and_keyed_by_card_account(model: type[Any]) -> None:
    message = model.model_validate(_example(model))
    spec = topic_for_event(message)
    assert spec.key == "card_account_id" and spec.producer == "authorization"
    assert spec.message_key(message) == "cac_01j0abc"
    assert model.model_validate_json(message.model_dump_json()) == message


def test_the_applied_split_is_strict_money() -> None:
    body = _example(ev.CardRepaymentApplied)
    assert topic("card.repayment.applied").schema is ev.CardRepaymentApplied
    for bad in ({"amount_minor": 0}, {"amount_minor": "260000"}, {"split": {**body["split"], "fees_minor": -1}}):
        with pytest.raises(ValidationError):
            ev.CardRepaymentApplied.model_validate({**body, **bad})


def test_a_refusal_has_a_stable_reason() -> None:
    body = _example(ev.CardRepaymentRefused)
    with pytest.raises(ValidationError):
        ev.CardRepaymentRefused.model_validate({**body, "reason": "something_else"})
    minimal = {key: value for key, value in body.items() if key not in ("transfer_id", "processor")}
    assert ev.CardRepaymentRefused.model_validate(minimal).transfer_id is None
