"""Incremental authorizations against real PostgreSQL, the real broker and an in-process ledger: an
increment raises the original's hold (one larger hold replaces it), is decided against the limit,
is idempotent by its own processor id, leaves the original untouched when declined; partial
reversals and clearing then work on the raised hold, the clearing refunding every fee once; the
same over Kafka; and a crash between the larger hold and the decision is finished by recovery."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain.authorizations import AuthorizationStatus
from clearway.authorization.service import incrementals, recovery
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import PROCESSOR_KEY, RunningFlow
from .flows import balance, clearing_body, decided_events, issue_card, open_account, request_body

pytestmark = pytest.mark.integration


async def _hold(ledger: httpx.AsyncClient, reference: str) -> dict[str, Any]:
    answer = await ledger.get(f"/transactions/reference/{reference}")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


async def test_an_increment_raises_the_hold_within_the_limit_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)  # 5,000.00 limit, 150 bps
        ids = account["balances"]
        card = await issue_card(service.admin, account["id"])
        original = (await processor.post("/authorizations", json=request_body(card["id"], 200_000))).json()
        assert (original["decision"], original["fee_minor"]) == ("approved", 3_000)

        body = request_body(card["id"], 100_000, incremental_of=original["authorization_id"])
        first = await processor.post("/authorizations", json=body)
        assert first.status_code == 201, first.text
        increment = first.json()
        assert (increment["decision"], increment["fee_minor"], increment["available_credit_minor"]) == (
            "approved",
            1_500,
            200_000,
        )
        assert (increment["held_minor"], increment["incremental_of"]) == (0, original["id"])
        raised = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert (raised["status"], raised["amount_minor"], raised["held_minor"]) == ("approved", 300_000, 300_000)
        assert raised["hold_transaction_id"] == increment["hold_transaction_id"] != original["hold_transaction_id"]
        assert (await _hold(ledger, f"authorization:{original['id']}:void:0"))["status"] == "VOID"
        larger = await _hold(ledger, f"authorization:{original['id']}:raise:{increment['id']}")
        assert (larger["status"], larger["precise_amount"]) == ("INFLIGHT", 300_000)
        assert (await balance(ledger, ids["card_primary"]))["inflight_debit_balance"] == 300_000
        assert (await balance(ledger, ids["fees_payable"]))["balance"] == -4_500

        # The same increment again: the same decision, no second hold or fee.
        again = await processor.post("/authorizations", json=body)
        assert (again.status_code, again.json()["id"]) == (200, increment["id"])
        assert (await balance(ledger, ids["card_primary"]))["inflight_debit_balance"] == 300_000
        assert (await balance(ledger, ids["fees_payable"]))["balance"] == -4_500

        # Over the limit by one: declined, and the original hold stands as it was.
        over = await processor.post(
            "/authorizations", json=request_body(card["id"], 200_001, incremental_of=original["authorization_id"])
        )
        assert (over.json()["decision"], over.json()["reason"], over.json()["fee_minor"]) == (
            "declined",
            "insufficient_funds",
            0,
        )
        unchanged = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert (unchanged["status"], unchanged["held_minor"], unchanged["hold_transaction_id"]) == (
            "approved",
            300_000,
            raised["hold_transaction_id"],
        )
        assert (await _hold(ledger, f"authorization:{original['id']}:raise:{increment['id']}"))["status"] == "INFLIGHT"
        assert (await balance(ledger, ids["card_primary"]))["inflight_debit_balance"] == 300_000

        # Exactly the rest of the limit: approved, nothing left.
        exact = await processor.post(
            "/authorizations", json=request_body(card["id"], 200_000, incremental_of=original["authorization_id"])
        )
        assert exact.status_code == 201, exact.text
        assert (exact.json()["decision"], exact.json()["available_credit_minor"]) == ("approved", 0)
        assert (await balance(ledger, ids["card_primary"]))["inflight_debit_balance"] == 500_000

        # A partial reversal reduces the raised hold.
        partial = await processor.post(f"/authorizations/{original['id']}/reversals", json={"amount_minor": 150_000})
        assert (partial.json()["status"], partial.json()["held_minor"]) == ("approved", 350_000)
        assert (await balance(ledger, ids["card_primary"]))["inflight_debit_balance"] == 350_000

        # Clearing 3,500.00: the fees 30.00 + 15.00 + 30.00 are refunded and 52.50 posted.
        cleared = await processor.post(
            "/clearings", json=clearing_body(card["id"], 350_000, original["authorization_id"])
        )
        assert cleared.status_code == 201, cleared.text
        assert (cleared.json()["committed_minor"], cleared.json()["fee_minor"]) == (350_000, 5_250)
        state = await balance(ledger, ids["card_primary"])
        assert (state["balance"], state["inflight_debit_balance"]) == (-350_000, 0)
        assert (await balance(ledger, ids["fees_payable"]))["balance"] == -5_250

        # Nothing is held any more, an unknown original, or another card's: declined invalid_request.
        late = await processor.post(
            "/authorizations", json=request_body(card["id"], 1_000, incremental_of=original["authorization_id"])
        )
        unknown = await processor.post("/authorizations", json=request_body(card["id"], 1_000, incremental_of="nope"))
        other_card = await issue_card(service.admin, account["id"])
        elsewhere = await processor.post(
            "/authorizations",
            json=request_body(other_card["id"], 1_000, incremental_of=original["authorization_id"]),
        )
        for answer in (late, unknown, elsewhere):
            assert (answer.status_code, answer.json()["decision"], answer.json()["reason"]) == (
                201,
                "declined",
                "invalid_request",
            )
        events = await decided_events(authorization_settings.database_url, increment["authorization_id"])
        assert [(event["decision"], event["amount_minor"]) for event in events] == [("approved", 100_000)]


async def test_an_increment_over_kafka_and_after_a_crash(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary = account["balances"]["card_primary"]
        card = await issue_card(service.admin, account["id"])
        original = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()

        event = request_body(card["id"], 50_000, incremental_of=original["authorization_id"])
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            event_id = uuid.uuid4().hex
            for _ in range(2):  # a redelivery: the same event id
                await publish_as_processor(
                    producer, "card.authorization.requested", event, key=card["id"], event_id=event_id, source="acme"
                )

        async def raised() -> bool:
            return bool(await decided_events(authorization_settings.database_url, event["authorization_id"]))

        await wait_until(raised, "the Kafka increment is decided", timeout_s=20)
        state = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert (state["status"], state["held_minor"]) == ("approved", 150_000)
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 150_000

        # A crash after the increment was recorded (the original `raising`), before its hold: recovery finishes it.
        context = service.context
        crashing = request_body(card["id"], 25_000, incremental_of=original["authorization_id"])
        recorded, created = await incrementals.record(context, _request(crashing))
        assert created and recorded.is_pending
        busy = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert busy["status"] == AuthorizationStatus.RAISING.value
        reversal_key = {"Idempotency-Key": f"reverse-{original['id']}"}
        refused = await processor.post(f"/authorizations/{original['id']}/reversals", json={}, headers=reversal_key)
        assert (refused.status_code, refused.json()["code"]) == (409, "AUTHORIZATION_IN_PROGRESS")
        assert refused.headers["retry-after"] == "1"  # a passing state: not the key's final answer
        no_grace = dataclasses.replace(context, policy=dataclasses.replace(context.policy, recovery_grace_ms=0))
        assert await recovery.recover_once(no_grace) >= 1
        assert await recovery.recover_once(no_grace) >= 0  # a second pass changes nothing
        finished = (await processor.get(f"/authorizations/{recorded.id}")).json()
        assert finished["decision"] == "approved"
        state = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert (state["status"], state["held_minor"], state["amount_minor"]) == ("approved", 175_000, 175_000)
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 175_000
        assert len(await decided_events(authorization_settings.database_url, crashing["authorization_id"])) == 1

        # The reversal refused while the increment was in flight, retried with its key, is acted on now.
        reversed_ = await processor.post(f"/authorizations/{original['id']}/reversals", json={}, headers=reversal_key)
        assert reversed_.status_code in (200, 201), reversed_.text
        assert "idempotent-replayed" not in reversed_.headers
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 0


def _request(body: dict[str, Any]) -> Any:
    from clearway.authorization.entrypoints.schemas_authorizations import AuthorizationCreate

    return AuthorizationCreate.model_validate(body).request()
