"""Reversals and clearings that name an incremental authorization's processor id, against real
PostgreSQL, the real broker and an in-process ledger. Processors send them with the original's id or
with the increment's; both act on the original's one combined hold: a clearing commits it, a full
reversal of an increment releases that increment's amount only, a partial one that much of it; a
duplicate (the same event, the same clearing id, or a second full reversal) moves nothing more."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import PROCESSOR_KEY, RunningFlow
from .flows import balance, clearing_body, issue_card, open_account, outbox_events, request_body

pytestmark = pytest.mark.integration


async def _raised(processor: httpx.AsyncClient, card_id: str, *increments_minor: int) -> tuple[dict[str, Any], list]:
    """An approved 2,000.00 original raised by each increment in turn."""
    original = (await processor.post("/authorizations", json=request_body(card_id, 200_000))).json()
    assert original["decision"] == "approved", original
    increments = []
    for amount_minor in increments_minor:
        body = request_body(card_id, amount_minor, incremental_of=original["authorization_id"])
        answer = await processor.post("/authorizations", json=body)
        assert answer.json()["decision"] == "approved", answer.text
        increments.append(answer.json())
    return original, increments


async def test_a_reversal_naming_an_increment_releases_that_increment_only(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary = account["balances"]["card_primary"]
        card = await issue_card(service.admin, account["id"])
        original, (first, second) = await _raised(processor, card["id"], 100_000, 50_000)
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 350_000

        # A full reversal of the first increment (by the processor's id): its 1,000.00 only.
        full = await processor.post(f"/authorizations/{first['authorization_id']}/reversals", json={})
        assert full.status_code == 200, full.text
        answer = full.json()
        assert (answer["id"], answer["status"], answer["held_minor"]) == (original["id"], "approved", 250_000)
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 250_000
        increment = (await processor.get(f"/authorizations/{first['id']}")).json()
        assert (increment["held_minor"], increment["reversed_minor"]) == (0, 100_000)

        # The same full reversal again (a processor's retry): nothing of that increment is left.
        again = await processor.post(f"/authorizations/{first['authorization_id']}/reversals", json={})
        assert (again.status_code, again.json()["code"]) == (409, "AUTHORIZATION_NOT_REVERSIBLE")
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 250_000

        # A partial reversal of the second (by our id), then the rest of it, then nothing more.
        partial = await processor.post(f"/authorizations/{second['id']}/reversals", json={"amount_minor": 20_000})
        assert (partial.status_code, partial.json()["held_minor"]) == (200, 230_000), partial.text
        over = await processor.post(f"/authorizations/{second['id']}/reversals", json={"amount_minor": 30_001})
        assert (over.status_code, over.json()["code"]) == (422, "REVERSAL_EXCEEDS_HOLD")
        rest = await processor.post(f"/authorizations/{second['authorization_id']}/reversals", json={})
        assert (rest.status_code, rest.json()["held_minor"]) == (200, 200_000), rest.text
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (0, 200_000)

        # The original's own amount still clears against the hold that is left.
        cleared = await processor.post(
            "/clearings", json=clearing_body(card["id"], 200_000, second["authorization_id"])
        )
        assert cleared.status_code == 201, cleared.text
        assert (cleared.json()["forced"], cleared.json()["committed_minor"]) == (False, 200_000)
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-200_000, 0)


async def test_a_clearing_naming_an_increment_commits_the_combined_hold_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary, fees = account["balances"]["card_primary"], account["balances"]["fees_payable"]
        card = await issue_card(service.admin, account["id"])
        original, (increment,) = await _raised(processor, card["id"], 100_000)
        assert (await balance(ledger, fees))["balance"] == -4_500

        # Lower than the combined hold: commits 2,900.00 of the 3,000.00 and releases the rest.
        body = clearing_body(card["id"], 290_000, increment["authorization_id"])
        first = await processor.post("/clearings", json=body)
        assert first.status_code == 201, first.text
        cleared = first.json()
        assert {k: cleared[k] for k in ("forced", "status", "committed_minor", "difference_minor", "fee_minor")} == {
            "forced": False,
            "status": "posted",
            "committed_minor": 290_000,
            "difference_minor": -10_000,
            "fee_minor": 4_350,
        }
        assert cleared["authorization_id"] == increment["authorization_id"]  # as the processor sent it
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-290_000, 0)
        assert (await balance(ledger, fees))["balance"] == -4_350  # both fees refunded, 43.50 posted
        done = (await processor.get(f"/authorizations/{original['id']}")).json()
        assert (done["status"], done["held_minor"]) == ("cleared", 0)

        # The same clearing again: the first answer, nothing moves.
        again = await processor.post("/clearings", json=body)
        assert (again.status_code, again.json()["id"]) == (200, cleared["id"])
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-290_000, 0)
        assert (await balance(ledger, fees))["balance"] == -4_350
        posted = await outbox_events(authorization_settings.database_url, "card.clearing.posted", "id", cleared["id"])
        assert len(posted) == 1
        # A reversal naming the increment after the clearing: nothing is held any more.
        late = await processor.post(f"/authorizations/{increment['authorization_id']}/reversals", json={})
        assert (late.status_code, late.json()["code"]) == (409, "AUTHORIZATION_NOT_REVERSIBLE")


async def test_over_kafka_increment_ids_act_on_the_original_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary = account["balances"]["card_primary"]
        card = await issue_card(service.admin, account["id"])
        original, (first, second) = await _raised(processor, card["id"], 100_000, 50_000)

        reversal = {
            "authorization_id": first["authorization_id"],
            "card_id": card["id"],
            "amount_minor": 40_000,
            "reversed_at": "2026-05-03T10:00:00Z",
        }
        clearing = clearing_body(card["id"], 310_000, second["authorization_id"])
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            reversal_event_id = uuid.uuid4().hex
            for _ in range(2):  # a redelivery: the same event id
                await publish_as_processor(
                    producer,
                    "card.authorization.reversed",
                    reversal,
                    key=card["id"],
                    event_id=reversal_event_id,
                    source="acme",
                )

            async def reduced() -> dict[str, Any] | None:
                state = (await processor.get(f"/authorizations/{original['id']}")).json()
                return state if state["held_minor"] == 310_000 and state["status"] == "approved" else None

            await wait_until(reduced, "the Kafka reversal of an increment is applied", timeout_s=20)
            clearing_event_id = uuid.uuid4().hex
            for _ in range(2):
                await publish_as_processor(
                    producer,
                    "card.clearing.received",
                    clearing,
                    key=card["id"],
                    event_id=clearing_event_id,
                    source="acme",
                )

        async def posted() -> dict[str, Any] | None:
            page = (await processor.get("/clearings", params={"clearing_id": clearing["clearing_id"]})).json()
            return page["data"][0] if page["data"] and page["data"][0]["status"] == "posted" else None

        from_kafka = await wait_until(posted, "the Kafka clearing of an increment is posted", timeout_s=20)
        assert (from_kafka["forced"], from_kafka["committed_minor"], from_kafka["difference_minor"]) == (
            False,
            310_000,
            0,
        )
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-310_000, 0)
        increment = (await processor.get(f"/authorizations/{first['id']}")).json()
        assert increment["reversed_minor"] == 40_000
        events = await outbox_events(
            authorization_settings.database_url, "card.clearing.posted", "clearing_id", clearing["clearing_id"]
        )
        assert len(events) == 1
