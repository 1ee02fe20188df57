"""A bank transfer repays a card account (issue 10 §4), against real PostgreSQL, the real broker and an
in-process ledger: funding's `transfer.created` quoting the account's repayment reference splits like
`POST /repayments`; a redelivery and the same transfer under a new event id move nothing; outbound,
unknown-reference and other-currency transfers repay nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, RunningFlow
from .flows import balance, clearing_body, issue_card, open_account, request_body

pytestmark = pytest.mark.integration


def _transfer(reference: str | None, amount_minor: int, **fields: Any) -> dict[str, Any]:
    return {
        "transfer_id": fields.pop("transfer_id", None) or f"trf-{uuid.uuid4().hex[:10]}",
        "processor": "acme-bank",
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": "USD",
        "account_id": "acct_operating_usd",
        "payment_reference": reference,
        "counterparty": {"name": "Xavier Woods", "account": None},
        "settled_at": "2026-06-10T10:00:00Z",
        **fields,
    }


async def test_a_transfer_quoting_the_reference_repays_the_account_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
    ):
        account = await open_account(operator, ledger)
        account_id, ids = account["id"], account["balances"]
        reference = account["repayment_reference"]
        assert reference.startswith("RF")
        assert (await operator.get(f"/card-accounts/{account_id}")).json()["repayment_reference"] == reference
        card = await issue_card(operator, account_id)
        approved = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()
        cleared = await processor.post(
            "/clearings", json=clearing_body(card["id"], 100_000, approved["authorization_id"])
        )
        assert cleared.status_code == 201, cleared.text
        closed = await operator.post("/admin/jobs/close-cycles", json={"business_date": "2026-06-01"})
        assert closed.status_code == 200
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -100_000

        spaced = " ".join(reference[index : index + 4] for index in range(0, len(reference), 4)).lower()
        paying = _transfer(spaced, 40_000)
        ignored = [
            _transfer(reference, 5_000, direction="outbound"),
            _transfer("RF18539007547034", 5_000),  # a valid reference, not a card account's
            _transfer(reference, 5_000, currency="EUR"),
        ]
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            for body in ignored:
                await publish_as_processor(
                    producer,
                    "transfer.created",
                    body,
                    key=body["transfer_id"],
                    event_id=uuid.uuid4().hex,
                    source="acme",
                )
            event_id = uuid.uuid4().hex
            for _ in range(2):  # a redelivery: the same event id
                await publish_as_processor(
                    producer, "transfer.created", paying, key=paying["transfer_id"], event_id=event_id, source="acme"
                )
            # The processor re-sends the same transfer under a new event id.
            await publish_as_processor(
                producer,
                "transfer.created",
                paying,
                key=paying["transfer_id"],
                event_id=uuid.uuid4().hex,
                source="acme",
            )

        async def repaid() -> bool:
            return bool((await balance(ledger, ids["billed_balance"]))["balance"] == -60_000)

        await wait_until(repaid, "the transfer repays the billed principal", timeout_s=20)
        await asyncio.sleep(1.0)  # give a second (wrong) application, or an ignored transfer, time to show
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -60_000
        assert (await balance(ledger, ids["card_primary"]))["balance"] == -60_000
        assert (await balance(ledger, ids["fees_payable"]))["balance"] == -1_500
        # The same repayment answers the transfer's reference over HTTP: it was made once.
        again = await operator.post(
            f"/card-accounts/{account_id}/repayments",
            json={
                "amount_minor": 40_000,
                "currency": "USD",
                "reference": f"transfer:acme-bank:{paying['transfer_id']}",
            },
        )
        assert (again.status_code, again.json()["status"], again.json()["allocation"]["billed_minor"]) == (
            200,
            "posted",
            40_000,
        )
