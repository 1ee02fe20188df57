"""Seed 002 steps 1a-6 through authorization, against real PostgreSQL, the real broker and an
in-process ledger: the account's balances, approvals and declines with the seed's figures, the
markup fee, one decision per processor id through both doors, a crash between hold and decision,
100 concurrent requests against one limit, and full and partial reversals."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain import postings
from clearway.authorization.domain.authorizations import (
    AuthorizationRequest,
    AuthorizationStatus,
    Channel,
    markup_fee_minor,
)
from clearway.authorization.service import authorizations, recovery
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, READER_KEY, RunningFlow
from .flows import (
    balance,
    decided_events,
    indicator_balance_minor,
    issue_card,
    new_identity,
    new_processor_id,
    open_account,
    request_body,
)

pytestmark = pytest.mark.integration


async def test_seed_002_steps_1a_to_6_with_the_issues_figures(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        assert account["status"] == "active" and account["available_credit_minor"] == 500_000
        primary = account["balances"]["card_primary"]
        for name, balance_id in account["balances"].items():
            state = await balance(ledger, balance_id)
            assert (state["balance"], state["currency"], state["ledger_id"]) == (0, "USD", account["ledger_id"]), name
            assert state["meta_data"]["type"] == name.replace("_", ":", 1), name
            assert state["identity_id"] == account["identity_id"]
        card = await issue_card(service.admin, account["id"])
        fee_income_before = await indicator_balance_minor(ledger, postings.fee_income("USD"))

        pos = await processor.post("/authorizations", json=request_body(card["id"], 200_000))
        assert pos.status_code == 201, pos.text
        assert (pos.json()["decision"], pos.json()["reason"], pos.json()["available_credit_minor"]) == (
            "approved",
            None,
            300_000,
        )
        over = await processor.post("/authorizations", json=request_body(card["id"], 300_001, channel="atm"))
        assert (over.json()["decision"], over.json()["reason"]) == ("declined", "insufficient_funds")
        assert over.json()["fee_minor"] == 0 and over.json()["hold_transaction_id"] is None
        atm = await processor.post("/authorizations", json=request_body(card["id"], 300_000, channel="atm"))
        assert (atm.json()["decision"], atm.json()["available_credit_minor"]) == ("approved", 0)

        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (0, 500_000)
        # 1.5% of each approved amount, fees payable -> the program's fee income; none for the decline.
        assert (await balance(ledger, account["balances"]["fees_payable"]))["balance"] == -(3_000 + 4_500)
        assert await indicator_balance_minor(ledger, postings.fee_income("USD")) == fee_income_before + 7_500
        figures = (await service.admin.get(f"/card-accounts/{account['id']}")).json()
        assert (figures["available_credit_minor"], figures["pending_minor"], figures["fees_minor"]) == (
            0,
            500_000,
            7_500,
        )
        assert (figures["outstanding_minor"], figures["billed_minor"], figures["overdue_minor"]) == (0, 0, 0)

        # The same processor id again, over HTTP and over Kafka: the same decision, no second hold or fee.
        again = await processor.post(
            "/authorizations", json=request_body(card["id"], 200_000, authorization_id=pos.json()["authorization_id"])
        )
        assert again.status_code == 200 and again.json()["id"] == pos.json()["id"]
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            body = request_body(card["id"], 300_001, channel="atm", authorization_id=over.json()["authorization_id"])
            await publish_as_processor(
                producer, "card.authorization.requested", body, key=card["id"], event_id=uuid.uuid4().hex, source="acme"
            )
            fresh = request_body(card["id"], 1_00)
            await publish_as_processor(
                producer,
                "card.authorization.requested",
                fresh,
                key=card["id"],
                event_id=uuid.uuid4().hex,
                source="acme",
            )

        async def decided_over_kafka() -> dict[str, object] | None:
            page = (
                await service.admin.get("/authorizations", params={"authorization_id": fresh["authorization_id"]})
            ).json()
            return page["data"][0] if page["data"] and page["data"][0]["decision"] else None

        from_kafka = await wait_until(decided_over_kafka, "the Kafka request is decided", timeout_s=20)
        assert (from_kafka["decision"], from_kafka["reason"]) == ("declined", "insufficient_funds")
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (0, 500_000)
        assert (await balance(ledger, account["balances"]["fees_payable"]))["balance"] == -7_500
        for decision in (pos.json(), over.json(), atm.json(), from_kafka):
            events = await decided_events(authorization_settings.database_url, str(decision["authorization_id"]))
            assert len(events) == 1, decision
            assert events[0]["decision"] == decision["decision"] and events[0]["card_id"] == card["id"]


async def test_rules_before_the_hold_and_who_may_do_what(running_flow: RunningFlow, ledger: httpx.AsyncClient) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(READER_KEY) as reader,
        service.client(OPERATOR_KEY) as operator,
    ):
        account = await open_account(operator, ledger)
        card = await issue_card(service.admin, account["id"], blocked_mccs=["7995"], atm_allowed=False)
        cases = [
            (request_body(card["id"], 1_000, mcc="7995"), "control_violation"),
            (request_body(card["id"], 1_000, channel="atm"), "control_violation"),
            (request_body("crd_unknown", 1_000), "invalid_request"),
            (request_body(card["id"], 1_000, currency="EUR"), "invalid_request"),
            (request_body(card["id"], 0), "invalid_request"),
        ]
        for body, reason in cases:
            answer = await processor.post("/authorizations", json=body)
            assert (answer.status_code, answer.json()["decision"], answer.json()["reason"]) == (201, "declined", reason)
        frozen = await operator.patch(f"/cards/{card['id']}", json={"status": "frozen"})
        assert frozen.json()["status"] == "frozen"
        answer = await processor.post("/authorizations", json=request_body(card["id"], 1_000))
        assert answer.json()["reason"] == "card_inactive"
        assert (await balance(ledger, account["balances"]["card_primary"]))["inflight_debit_balance"] == 0

        assert (await reader.post("/authorizations", json=request_body(card["id"], 1_000))).status_code == 403
        assert (await operator.post("/authorizations", json=request_body(card["id"], 1_000))).status_code == 403
        assert (await reader.get(f"/cards/{card['id']}")).json()["controls"]["blocked_mccs"] == ["7995"]

        pan = await operator.post(
            f"/card-accounts/{account['id']}/cards", json={"last_four": "4242424242424242", "expires": "09/39"}
        )
        assert (pan.status_code, pan.json()["code"]) == (422, "PAN_NOT_ALLOWED")
        assert pan.headers["content-type"].startswith("application/problem+json")
        unknown = await operator.post(
            "/card-accounts",
            json={
                "identity_id": "idt_nobody",
                "currency": "USD",
                "credit_limit_minor": 1,
                "billing_cycle_day": 1,
                "payment_due_days": 21,
            },
        )
        assert (unknown.status_code, unknown.json()["code"]) == (422, "IDENTITY_NOT_FOUND")
        day_29 = await operator.post(
            "/card-accounts",
            json={
                "identity_id": await new_identity(ledger),
                "currency": "USD",
                "credit_limit_minor": 1,
                "billing_cycle_day": 29,
                "payment_due_days": 21,
            },
        )
        assert (day_29.status_code, day_29.json()["code"]) == (422, "BILLING_CYCLE_DAY_INVALID")
        assert day_29.headers["content-type"].startswith("application/problem+json")

        # Idempotency-Key: the same opening again is the first answer, not a second account.
        body = {
            "identity_id": await new_identity(ledger),
            "currency": "USD",
            "credit_limit_minor": 10_000,
            "billing_cycle_day": 5,
            "payment_due_days": 21,
        }
        first = await operator.post("/card-accounts", json=body, headers={"Idempotency-Key": "open-once"})
        second = await operator.post("/card-accounts", json=body, headers={"Idempotency-Key": "open-once"})
        assert second.headers.get("Idempotent-Replayed") == "true" and second.json()["id"] == first.json()["id"]


async def test_a_crash_between_hold_and_decision_publishes_exactly_one_decision(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service:
        account = await open_account(service.admin, ledger)
        card = await issue_card(service.admin, account["id"])
        context = service.context
        request = AuthorizationRequest(
            authorization_id=new_processor_id("crash"),
            card_id=card["id"],
            amount_minor=123_45,
            currency="USD",
            merchant_name="Corner Coffee",
            merchant_category_code="5814",
            channel=Channel.POS,
            requested_at=context.clock(),
        )
        # The first phases of `authorize`, then the process "dies": the hold is placed, nothing decided.
        pending, created = await authorizations.record(context, request)
        assert created and pending.status is AuthorizationStatus.PENDING
        async with context.unit_of_work() as uow:
            stored = await uow.card_accounts.get(account["id"])
        assert stored is not None
        # The process dies right after the ledger applied the hold and its fee.
        hold_posting = postings.hold_posting(pending, stored, pending.amount_minor, generation=0)
        placed = await context.ledger.post_atomic(
            [
                hold_posting,
                postings.fee_posting(
                    pending, stored, markup_fee_minor(pending.amount_minor, stored.terms.fee_markup_bps)
                ),
            ],
            overdraft_limits_minor={hold_posting.reference: stored.credit_limit_minor},
        )
        hold = placed.transactions[0]
        assert placed.applied and hold.status == "INFLIGHT"
        assert await decided_events(authorization_settings.database_url, request.authorization_id) == []

        restarted = dataclasses.replace(context, policy=dataclasses.replace(context.policy, recovery_grace_ms=0))
        assert await recovery.recover_once(restarted) >= 1
        await recovery.recover_once(restarted)  # twice changes nothing
        events = await decided_events(authorization_settings.database_url, request.authorization_id)
        assert len(events) == 1 and events[0]["decision"] == "approved"
        assert events[0]["hold_transaction_id"] == hold.transaction_id
        state = await balance(ledger, account["balances"]["card_primary"])
        assert state["inflight_debit_balance"] == 123_45  # one hold: the recovery's ask was a replay
        retried = await service.admin.post(
            "/authorizations", json=request_body(card["id"], 123_45, authorization_id=request.authorization_id)
        )
        assert retried.status_code == 200 and retried.json()["id"] == pending.id


async def test_100_concurrent_authorizations_never_exceed_the_limit(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger, limit_minor=10_000, fee_bps=0)
        card = await issue_card(service.admin, account["id"])
        answers = await asyncio.gather(
            *(processor.post("/authorizations", json=request_body(card["id"], 1_000)) for _ in range(100))
        )
        assert all(answer.status_code == 201 for answer in answers), {answer.status_code for answer in answers}
        decisions = [answer.json() for answer in answers]
        approved = [item for item in decisions if item["decision"] == "approved"]
        assert len(approved) == 10
        assert {item["reason"] for item in decisions if item["decision"] == "declined"} == {"insufficient_funds"}
        state = await balance(ledger, account["balances"]["card_primary"])
        assert (state["balance"], state["inflight_debit_balance"]) == (0, 10_000)


async def test_full_and_partial_reversals_release_the_hold_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary = account["balances"]["card_primary"]
        card = await issue_card(service.admin, account["id"])
        approved = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()
        partial = await processor.post(f"/authorizations/{approved['id']}/reversals", json={"amount_minor": 30_000})
        assert partial.status_code == 200, partial.text
        assert (partial.json()["status"], partial.json()["held_minor"]) == ("approved", 70_000)
        assert partial.json()["hold_transaction_id"] == approved["hold_transaction_id"]  # the same hold, smaller
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 70_000

        too_much = await processor.post(f"/authorizations/{approved['id']}/reversals", json={"amount_minor": 70_001})
        assert (too_much.status_code, too_much.json()["code"]) == (422, "REVERSAL_EXCEEDS_HOLD")

        event = {
            "authorization_id": approved["authorization_id"],
            "card_id": card["id"],
            "amount_minor": 20_000,
            "reversed_at": "2026-05-02T10:00:00Z",
        }
        event_id = uuid.uuid4().hex
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            for _ in range(2):  # a redelivery: the same event id
                await publish_as_processor(
                    producer, "card.authorization.reversed", event, key=card["id"], event_id=event_id, source="acme"
                )

        async def reduced() -> bool:
            state = (await service.admin.get(f"/authorizations/{approved['id']}")).json()
            return bool(state["held_minor"] == 50_000 and state["status"] == "approved")

        await wait_until(reduced, "the Kafka reversal reduces the hold", timeout_s=20)
        await asyncio.sleep(0.5)  # give a second (wrong) application time to show
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 50_000
        assert (await service.admin.get(f"/authorizations/{approved['id']}")).json()["held_minor"] == 50_000

        full = await processor.post(f"/authorizations/{approved['authorization_id']}/reversals", json={})
        assert (full.json()["status"], full.json()["held_minor"]) == ("reversed", 0)
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (0, 0)
        again = await processor.post(f"/authorizations/{approved['id']}/reversals", json={})
        assert (again.status_code, again.json()["code"]) == (409, "AUTHORIZATION_NOT_REVERSIBLE")


async def test_a_partial_reversal_keeps_the_rest_held_while_other_authorizations_race_for_the_room(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    """Regression: a partial reversal used to void the whole hold and place the rest again, so an
    authorization arriving in between could take the room and the rest was lost. The ledger now
    voids only the reversed part: the rest stays held, and only the released room is spent."""
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger, limit_minor=100_000, fee_bps=0)
        card = await issue_card(service.admin, account["id"])
        approved = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()
        assert approved["decision"] == "approved", approved

        reversal = processor.post(f"/authorizations/{approved['id']}/reversals", json={"amount_minor": 30_000})
        racers = [processor.post("/authorizations", json=request_body(card["id"], 30_000)) for _ in range(8)]
        reversed_, *answers = await asyncio.gather(reversal, *racers)
        assert reversed_.status_code == 200, reversed_.text
        assert (reversed_.json()["status"], reversed_.json()["held_minor"]) == ("approved", 70_000)
        racers_approved = [answer.json() for answer in answers if answer.json()["decision"] == "approved"]
        assert len(racers_approved) <= 1  # only the 30,000 released was ever free
        state = await balance(ledger, account["balances"]["card_primary"])
        assert state["inflight_debit_balance"] == 70_000 + 30_000 * len(racers_approved) <= 100_000
