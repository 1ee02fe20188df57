"""Seed 002 steps 7-8 through authorization, against real PostgreSQL, the real broker and an
in-process ledger: clearings commit holds (exact, lower, higher), force posts, the fee refunded and
re-posted when it changes, one effect per clearing id through both doors, a crash between record and
ledger finished by recovery, and the expiry job voiding stale holds once per business date."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain import postings
from clearway.authorization.domain.clearings import ClearingRequest
from clearway.authorization.service import clearings, recovery
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, READER_KEY, RunningFlow
from .flows import (
    balance,
    clearing_body,
    indicator_balance_minor,
    issue_card,
    open_account,
    outbox_events,
    request_body,
)

pytestmark = pytest.mark.integration


async def test_seed_7_to_8_exact_and_lower_clearings_with_the_fee_reposted(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        primary, fees = account["balances"]["card_primary"], account["balances"]["fees_payable"]
        card = await issue_card(service.admin, account["id"])
        pos = (await processor.post("/authorizations", json=request_body(card["id"], 200_000))).json()
        atm = (await processor.post("/authorizations", json=request_body(card["id"], 300_000, channel="atm"))).json()
        assert (pos["decision"], atm["decision"], pos["fee_minor"], atm["fee_minor"]) == (
            "approved",
            "approved",
            3_000,
            4_500,
        )
        fee_income_before = await indicator_balance_minor(ledger, postings.fee_income("USD"))

        # Seed 7: the POS clears at its authorized amount: the hold is committed, the fee stands.
        exact = await processor.post("/clearings", json=clearing_body(card["id"], 200_000, pos["authorization_id"]))
        assert exact.status_code == 201, exact.text
        cleared = exact.json()
        assert {k: cleared[k] for k in ("forced", "status", "committed_minor", "difference_minor", "fee_minor")} == {
            "forced": False,
            "status": "posted",
            "committed_minor": 200_000,
            "difference_minor": 0,
            "fee_minor": 3_000,
        }
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-200_000, 300_000)
        assert (await balance(ledger, fees))["balance"] == -7_500
        assert (await service.admin.get(f"/authorizations/{pos['id']}")).json()["status"] == "cleared"

        # Seed 7 -> 8: the ATM clears lower (2,500.00 of 3,000.00): 2,500.00 committed, the rest freed;
        # the 45.00 fee refunded and 37.50 posted.
        lower = await processor.post("/clearings", json=clearing_body(card["id"], 250_000, atm["authorization_id"]))
        assert lower.status_code == 201, lower.text
        assert (lower.json()["committed_minor"], lower.json()["difference_minor"], lower.json()["fee_minor"]) == (
            250_000,
            -50_000,
            3_750,
        )
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-450_000, 0)
        assert (await balance(ledger, fees))["balance"] == -(3_000 + 3_750)
        assert await indicator_balance_minor(ledger, postings.fee_income("USD")) == fee_income_before - 4_500 + 3_750
        refund = await ledger.get(f"/transactions/reference/{postings.fee_refund_reference(atm['id'])}")
        assert refund.status_code == 200 and refund.json()["status"] == "APPLIED"
        reposted = await ledger.get(f"/transactions/reference/clearing:{lower.json()['id']}:fee")
        assert reposted.json()["precise_amount"] == 3_750
        figures = (await service.admin.get(f"/card-accounts/{account['id']}")).json()
        assert (figures["available_credit_minor"], figures["pending_minor"], figures["fees_minor"]) == (
            50_000,
            0,
            6_750,
        )

        # The same clearing again, over HTTP and twice over Kafka: one effect, one event.
        again = await processor.post(
            "/clearings",
            json=clearing_body(card["id"], 250_000, atm["authorization_id"], clearing_id=lower.json()["clearing_id"]),
        )
        assert again.status_code == 200 and again.json()["id"] == lower.json()["id"]
        fresh = clearing_body(card["id"], 1_000, None)
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            repeated = clearing_body(
                card["id"], 250_000, atm["authorization_id"], clearing_id=lower.json()["clearing_id"]
            )
            for body in (repeated, repeated, fresh, fresh):
                await publish_as_processor(
                    producer, "card.clearing.received", body, key=card["id"], event_id=uuid.uuid4().hex, source="acme"
                )

        async def posted_over_kafka() -> dict[str, object] | None:
            page = (await service.admin.get("/clearings", params={"clearing_id": fresh["clearing_id"]})).json()
            return page["data"][0] if page["data"] and page["data"][0]["status"] == "posted" else None

        from_kafka = await wait_until(posted_over_kafka, "the Kafka clearing is posted", timeout_s=20)
        assert (from_kafka["forced"], from_kafka["fee_minor"]) == (True, 15)
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-451_000, 0)
        assert (await balance(ledger, fees))["balance"] == -(3_000 + 3_750 + 15)
        for clearing in (cleared, lower.json(), from_kafka):
            events = await outbox_events(
                authorization_settings.database_url, "card.clearing.posted", "clearing_id", str(clearing["clearing_id"])
            )
            assert len(events) == 1, clearing
            assert events[0]["card_id"] == card["id"] and events[0]["fee_minor"] == clearing["fee_minor"]


async def test_higher_clearings_post_the_difference_and_force_posts_are_flagged(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(READER_KEY) as reader,
    ):
        account = await open_account(service.admin, ledger)
        primary, fees = account["balances"]["card_primary"], account["balances"]["fees_payable"]
        card = await issue_card(service.admin, account["id"])
        auth = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()

        higher = await processor.post("/clearings", json=clearing_body(card["id"], 120_000, auth["authorization_id"]))
        assert higher.status_code == 201, higher.text
        assert (higher.json()["committed_minor"], higher.json()["difference_minor"], higher.json()["fee_minor"]) == (
            100_000,
            20_000,
            1_800,
        )
        difference = await ledger.get(f"/transactions/reference/clearing:{higher.json()['id']}:post")
        assert (difference.json()["status"], difference.json()["precise_amount"]) == ("APPLIED", 20_000)
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-120_000, 0)
        assert (await balance(ledger, fees))["balance"] == -1_800

        # No authorization, an unknown one, and one already cleared (it holds nothing): force posts.
        bodies = [
            clearing_body(card["id"], 5_000, None),
            clearing_body(card["id"], 7_000, "auth-we-never-saw"),
            clearing_body(card["id"], 3_000, auth["authorization_id"]),
        ]
        for body in bodies:
            forced = await processor.post("/clearings", json=body)
            assert forced.status_code == 201, forced.text
            assert (forced.json()["forced"], forced.json()["committed_minor"], forced.json()["status"]) == (
                True,
                0,
                "posted",
            )
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-135_000, 0)
        assert (await balance(ledger, fees))["balance"] == -(1_800 + 75 + 105 + 45)

        # Over the credit limit the ledger refuses the force post: recorded rejected, no fee.
        refused = await processor.post("/clearings", json=clearing_body(card["id"], 400_000, None))
        assert (refused.json()["status"], refused.json()["fee_minor"]) == ("rejected", 0)
        assert (await balance(ledger, primary))["balance"] == -135_000

        # Reads: by our id or the processor's, and the card's clearings page by page.
        by_processor = await reader.get(f"/clearings/{higher.json()['clearing_id']}")
        assert by_processor.json() == higher.json()
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"card_id": card["id"], "limit": "2", **({"starting_after": cursor} if cursor else {})}
            page = (await reader.get("/clearings", params=params)).json()
            seen += [item["id"] for item in page["data"]]
            if not page["has_more"]:
                break
            cursor = page["data"][-1]["id"]
        assert len(seen) == 5 and seen == sorted(seen)
        assert (await reader.post("/clearings", json=clearing_body(card["id"], 1, None))).status_code == 403
        unknown = await processor.post("/clearings", json=clearing_body("crd_unknown", 1_000, None))
        assert (unknown.status_code, unknown.json()["code"]) == (404, "CARD_NOT_FOUND")
        other = await processor.post("/clearings", json=clearing_body(card["id"], 1_000, None, currency="EUR"))
        assert (other.status_code, other.json()["code"]) == (422, "CURRENCY_MISMATCH")
        assert (await reader.get("/clearings/ccl_nothing")).json()["code"] == "CLEARING_NOT_FOUND"


async def test_a_crash_between_record_and_ledger_is_finished_once_by_recovery(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with running_flow() as service, service.client(PROCESSOR_KEY) as processor:
        account = await open_account(service.admin, ledger)
        card = await issue_card(service.admin, account["id"])
        auth = (await processor.post("/authorizations", json=request_body(card["id"], 10_000))).json()
        request = ClearingRequest(
            clearing_id=f"clr-{uuid.uuid4().hex[:12]}",
            authorization_id=auth["authorization_id"],
            card_id=card["id"],
            amount_minor=9_000,
            currency="USD",
            merchant_name="Corner Coffee",
            merchant_category_code="5814",
            cleared_at=datetime(2026, 5, 3, tzinfo=UTC),
        )
        context = service.context
        recorded, created = await clearings.record(context, request)
        assert created and recorded.is_pending  # the process dies here, before the ledger is asked
        reversal = await processor.post(f"/authorizations/{auth['id']}/reversals", json={})
        assert (reversal.status_code, reversal.json()["code"]) == (409, "AUTHORIZATION_NOT_REVERSIBLE")

        restarted = dataclasses.replace(context, policy=dataclasses.replace(context.policy, recovery_grace_ms=0))
        assert await recovery.recover_once(restarted) >= 1
        await recovery.recover_once(restarted)  # twice changes nothing
        finished = (await service.admin.get(f"/clearings/{recorded.id}")).json()
        assert (finished["status"], finished["committed_minor"], finished["fee_minor"]) == ("posted", 9_000, 135)
        state = await balance(ledger, account["balances"]["card_primary"])
        assert (state["balance"], state["inflight_debit_balance"]) == (-9_000, 0)
        assert (await balance(ledger, account["balances"]["fees_payable"]))["balance"] == -135
        events = await outbox_events(
            authorization_settings.database_url, "card.clearing.posted", "clearing_id", request.clearing_id
        )
        assert len(events) == 1


async def test_expiry_voids_stale_holds_once_per_business_date(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
    ):
        account = await open_account(service.admin, ledger)
        primary = account["balances"]["card_primary"]
        card = await issue_card(service.admin, account["id"])
        # Dates of this test's own (no other test requests in 2001): the job only sees these.
        stale = (
            await processor.post(
                "/authorizations", json=request_body(card["id"], 40_000, requested_at="2001-01-02T10:00:00Z")
            )
        ).json()
        cleared = (
            await processor.post(
                "/authorizations", json=request_body(card["id"], 10_000, requested_at="2001-01-02T11:00:00Z")
            )
        ).json()
        recent = (
            await processor.post(
                "/authorizations", json=request_body(card["id"], 20_000, requested_at="2001-01-15T10:00:00Z")
            )
        ).json()
        assert {stale["decision"], cleared["decision"], recent["decision"]} == {"approved"}
        await processor.post("/clearings", json=clearing_body(card["id"], 10_000, cleared["authorization_id"]))
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 60_000

        job = {"business_date": "2001-01-20"}  # 7 days before: 2001-01-13
        assert (await processor.post("/admin/jobs/expire-authorizations", json=job)).status_code == 403
        first = await operator.post("/admin/jobs/expire-authorizations", json=job)
        assert first.status_code == 200, first.text
        assert first.json() == {"job": "expire-authorizations", "business_date": "2001-01-20", "expired": 1}
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 20_000
        assert (await service.admin.get(f"/authorizations/{stale['id']}")).json()["status"] == "expired"
        assert (await service.admin.get(f"/authorizations/{recent['id']}")).json()["status"] == "approved"
        second = await operator.post("/admin/jobs/expire-authorizations", json=job)
        assert second.json()["expired"] == 0
        assert (await balance(ledger, primary))["inflight_debit_balance"] == 20_000
        events = await outbox_events(
            authorization_settings.database_url, "card.authorization.expired", "id", stale["id"]
        )
        assert len(events) == 1
        assert (events[0]["released_minor"], events[0]["business_date"]) == (40_000, "2001-01-20")

        # A clearing arriving after expiry is force-posted: the voided hold cannot be committed.
        late = await processor.post("/clearings", json=clearing_body(card["id"], 40_000, stale["authorization_id"]))
        assert (late.json()["forced"], late.json()["status"]) == (True, "posted")
        state = await balance(ledger, primary)
        assert (state["balance"], state["inflight_debit_balance"]) == (-50_000, 20_000)
