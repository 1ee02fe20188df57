"""Funding's money flows against the real ledger (in-process), real PostgreSQL and Kafka.

Post-funding (seed 000): payables created and approved, one invoice for them, the deposit
arriving as `transfer.created`, link-deposit, the money in the payees' wallets. Pre-funding: a
top-up invoice credits the workspace wallet, approvals pay from it at once or wait for funds.
Plus the refusals (mismatch, double link, unfundable payables, roles) and crash recovery.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from pypdf import PdfReader
from sqlalchemy import text

from clearway.devstack.testing import collect_pages, publish_as_processor, started_producer, wait_until
from clearway.funding.config import FundingSettings
from clearway.funding.service.context import FundingContext
from clearway.funding.service.recovery import recover_once
from clearway.platform.db import create_engine
from clearway.platform.idempotency.store import idempotency_keys

from .conftest import APPROVER_KEY, OPERATOR_KEY, OTHER_WORKSPACE_KEY, RunningFlow

pytestmark = pytest.mark.integration

PROCESSOR_SOURCE = "urn:clearway-tests:funding-flows"
RECIPIENT = {"name": "Globex Finance", "email": "ap@globex.example"}


@pytest_asyncio.fixture(loop_scope="session")
async def processor(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    async with started_producer(kafka_bootstrap_servers) as producer:
        yield producer


async def publish_transfer(
    producer: AIOKafkaProducer,
    amount_minor: int,
    *,
    reference: str | None,
    currency: str = "USD",
    event_id: str | None = None,
    transfer_id: str | None = None,
) -> dict[str, Any]:
    body = {
        "transfer_id": transfer_id or f"trf_{uuid.uuid4().hex[:16]}",
        "processor": "acme-bank",
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": currency,
        "account_id": "acct_operating_usd",
        "payment_reference": reference,
        "counterparty": {"name": "Globex Finance", "account": "021000021-99887766"},
        "settled_at": datetime.now(UTC).isoformat(),
    }
    await send_transfer(producer, body, event_id=event_id or str(uuid.uuid4()))
    return body


async def send_transfer(producer: AIOKafkaProducer, body: dict[str, Any], *, event_id: str) -> None:
    await publish_as_processor(
        producer, "transfer.created", body, key=body["transfer_id"], event_id=event_id, source=PROCESSOR_SOURCE
    )


async def deposits_for(client: httpx.AsyncClient, transfer_id: str) -> list[dict[str, Any]]:
    return await collect_pages(client, "/deposits", keep=lambda deposit: deposit["transfer_id"] == transfer_id)


async def wait_for_deposit(client: httpx.AsyncClient, transfer_id: str) -> dict[str, Any]:
    async def one() -> dict[str, Any] | None:
        found = await deposits_for(client, transfer_id)
        return found[0] if found else None

    deposit: dict[str, Any] = await wait_until(one, f"funding shows a deposit for {transfer_id}")
    return deposit


async def new_payee(ledger: httpx.AsyncClient, name: str) -> str:
    response = await ledger.post("/identities", json={"identity_type": "individual", "first_name": name})
    assert response.status_code == 201, response.text
    identity_id: str = response.json()["identity_id"]
    return identity_id


async def approved_payable(
    client: httpx.AsyncClient, payee_id: str, amount_minor: int, *, currency: str = "USD", approve: bool = True
) -> dict[str, Any]:
    created = await client.post(
        "/payable",
        json={
            "payee_id": payee_id,
            "amount_minor": amount_minor,
            "currency": currency,
            "description": f"Invoice from {payee_id}",
            "external_id": f"ext-{uuid.uuid4().hex[:10]}",
            "metadata": {"campaign": "spring"},
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    payable: dict[str, Any] = created.json()
    assert payable["status"] == "created"
    if not approve:
        return payable
    approved = await client.put(f"/payable/{payable['id']}/approve")
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


async def wallet_balance(ledger: httpx.AsyncClient, identity_id: str, currency: str = "USD") -> int | None:
    response = await ledger.get(f"/balances/indicator/wallet:{identity_id}/currency/{currency}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    balance: int = response.json()["balance"]
    return balance


async def internal_balance(ledger: httpx.AsyncClient, name: str, currency: str = "USD") -> int:
    response = await ledger.get(f"/balances/indicator/{name}/currency/{currency}")
    assert response.status_code == 200, response.text
    balance: int = response.json()["balance"]
    return balance


async def outbox_events(settings: FundingSettings, topic: str) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT payload FROM outbox WHERE topic = :topic ORDER BY id"), {"topic": topic}
            )
            return [dict(row[0]) for row in rows]
    finally:
        await engine.dispose()


async def create_funding(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/funding", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    funding: dict[str, Any] = response.json()
    return funding


async def test_post_funding_pays_every_payee_through_the_clearing_balance(
    running_flow: RunningFlow,
    ledger: httpx.AsyncClient,
    processor: AIOKafkaProducer,
    flow_settings: FundingSettings,
) -> None:
    alice, bob = await new_payee(ledger, "Alice"), await new_payee(ledger, "Bob")
    async with running_flow() as client:
        payables = [
            await approved_payable(client, alice, 120_050),
            await approved_payable(client, bob, 99_999),
            await approved_payable(client, alice, 1),
        ]
        assert all(p["status"] == "approved" and p["approved_by"] == "dev-admin" for p in payables)
        funding = await create_funding(client, {"payable_ids": [p["id"] for p in payables], "recipient": RECIPIENT})
        assert funding["status"] == "awaiting_funds" and funding["kind"] == "payables"
        assert funding["total_minor"] == 220_050 and funding["currency"] == "USD"
        invoice = funding["invoice"]
        assert invoice["number"].startswith("CW-") and invoice["payment_reference"].startswith("RF")
        assert [line["payable_id"] for line in invoice["lines"]] == sorted(p["id"] for p in payables)
        assert invoice["payment_instructions"]["payment_reference"] == invoice["payment_reference"]
        for payable in payables:
            assert (await client.get(f"/payable/{payable['id']}")).json()["status"] == "in_funding"

        # The finance department pays, quoting the reference with spaces as people do.
        spaced = " ".join(invoice["payment_reference"][i : i + 4] for i in range(0, 20, 4)).strip()
        event_id = str(uuid.uuid4())
        body = await publish_transfer(processor, 220_050, reference=spaced, event_id=event_id)
        deposit = await wait_for_deposit(client, body["transfer_id"])
        assert deposit["status"] == "unlinked" and deposit["proposed_funding_id"] == funding["id"]
        # The same event again and a processor retry: still one deposit.
        await send_transfer(processor, body, event_id=event_id)
        await send_transfer(processor, body, event_id=str(uuid.uuid4()))
        marker = await publish_transfer(processor, 5, reference=None)
        await wait_for_deposit(client, marker["transfer_id"])
        assert len(await deposits_for(client, body["transfer_id"])) == 1

        linked = await client.post(f"/funding/{funding['id']}/link-deposit", json={"transfer_id": body["transfer_id"]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["status"] == "paid_out"
        assert linked.json()["deposit"]["transfer_id"] == body["transfer_id"]
        for payable in payables:
            paid = (await client.get(f"/payable/{payable['id']}")).json()
            assert paid["status"] == "paid"
            assert paid["ledger_reference"] == f"funding:{funding['id']}:payable:{payable['id']}"

        # A transfer links once; a paid funding takes no second deposit.
        again = await client.post(f"/funding/{funding['id']}/link-deposit", json={"transfer_id": body["transfer_id"]})
        assert again.status_code == 409 and again.json()["code"] == "DEPOSIT_ALREADY_LINKED"
        other = await publish_transfer(processor, 220_050, reference=None)
        await wait_for_deposit(client, other["transfer_id"])
        second = await client.post(f"/funding/{funding['id']}/link-deposit", json={"transfer_id": other["transfer_id"]})
        assert second.status_code == 409 and second.json()["current_status"] == "paid_out"

    assert await wallet_balance(ledger, alice) == 120_051
    assert await wallet_balance(ledger, bob) == 99_999
    assert await internal_balance(ledger, f"@FundingClearing-{funding['id']}") == 0
    deposit_ref = f"funding:{funding['id']}:deposit:{body['transfer_id']}"
    assert (await ledger.get(f"/transactions/reference/{deposit_ref}")).json()["status"] == "APPLIED"

    paid_events = await outbox_events(flow_settings, "payable.paid")
    assert sorted(event["payable_id"] for event in paid_events) == sorted(p["id"] for p in payables)
    assert {event["funding_id"] for event in paid_events} == {funding["id"]}
    (linked_event,) = await outbox_events(flow_settings, "funding.deposit_linked")
    assert linked_event["transfer_id"] == body["transfer_id"] and linked_event["amount_minor"] == 220_050
    (sent,) = await outbox_events(flow_settings, "funding.invoice_sent")
    assert sent["document_url"] == f"http://funding.test/funding/{funding['id']}/invoice?format=pdf"
    assert sent["channel"] == "event" and sent["recipient"] == RECIPIENT["email"]
    assert len(await outbox_events(flow_settings, "funding.created")) == 1
    assert len(await outbox_events(flow_settings, "payable.approved")) == 3


async def test_a_deposit_of_the_wrong_amount_changes_nothing(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, processor: AIOKafkaProducer
) -> None:
    payee = await new_payee(ledger, "Carol")
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 50_000)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        short = await publish_transfer(processor, 49_999, reference=funding["invoice"]["payment_reference"])
        await wait_for_deposit(client, short["transfer_id"])
        refused = await client.post(
            f"/funding/{funding['id']}/link-deposit", json={"transfer_id": short["transfer_id"]}
        )
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "DEPOSIT_AMOUNT_MISMATCH"
        assert (problem["invoice_total_minor"], problem["deposit_amount_minor"]) == (50_000, 49_999)
        assert "49999" in problem["detail"] and "50000" in problem["detail"]

        assert (await client.get(f"/funding/{funding['id']}")).json()["status"] == "awaiting_funds"
        assert (await client.get(f"/payable/{payable['id']}")).json()["status"] == "in_funding"
        (deposit,) = await deposits_for(client, short["transfer_id"])
        assert deposit["status"] == "unlinked"
        ref = f"funding:{funding['id']}:deposit:{short['transfer_id']}"
        assert (await ledger.get(f"/transactions/reference/{ref}")).status_code == 404
        assert await wallet_balance(ledger, payee) is None

        missing = await client.post(f"/funding/{funding['id']}/link-deposit", json={"transfer_id": "trf_nope"})
        assert missing.status_code == 404 and missing.json()["code"] == "DEPOSIT_NOT_FOUND"


async def test_only_approved_free_same_currency_payables_of_the_workspace_are_funded(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    payee = await new_payee(ledger, "Dan")
    async with running_flow() as client:
        approved = await approved_payable(client, payee, 1_000)
        unapproved = await approved_payable(client, payee, 2_000, approve=False)
        euro = await approved_payable(client, payee, 3_000, currency="EUR")
        funded = await approved_payable(client, payee, 4_000)
        await create_funding(client, {"payable_ids": [funded["id"]], "recipient": RECIPIENT})
        other_workspace = await client.post(
            "/payable",
            json={"payee_id": payee, "amount_minor": 5, "currency": "USD", "description": "theirs"},
            headers={"X-API-Key": OTHER_WORKSPACE_KEY},
        )
        assert other_workspace.status_code == 201
        theirs = other_workspace.json()["id"]

        ids = [approved["id"], unapproved["id"], euro["id"], funded["id"], theirs, "pay_unknown"]
        refused = await client.post("/funding", json={"payable_ids": ids, "recipient": RECIPIENT})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "PAYABLES_NOT_FUNDABLE"
        assert set(problem["offending_payable_ids"]) == {
            unapproved["id"],
            euro["id"],
            funded["id"],
            theirs,
            "pay_unknown",
        }
        assert problem["reasons"]["not_found"] == [theirs, "pay_unknown"]
        assert problem["reasons"]["already_in_funding"] == [funded["id"]]
        assert problem["reasons"]["not_approved"] == [unapproved["id"]]
        assert problem["reasons"]["currency_mismatch"] == [euro["id"]]
        # Nothing changed: the approved one is still free.
        assert (await client.get(f"/payable/{approved['id']}")).json()["funding_id"] is None

        unknown_payee = await client.post(
            "/payable", json={"payee_id": "idt_nobody", "amount_minor": 5, "currency": "USD", "description": "x"}
        )
        assert unknown_payee.status_code == 422 and unknown_payee.json()["code"] == "UNKNOWN_PAYEE"


async def test_payable_states_roles_and_workspaces(running_flow: RunningFlow, ledger: httpx.AsyncClient) -> None:
    payee = await new_payee(ledger, "Erin")
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 7_000, approve=False)
        path = f"/payable/{payable['id']}"
        # Approving is the approver's duty: an operator alone is refused.
        forbidden = await client.post(f"{path}/approve", headers={"X-API-Key": OPERATOR_KEY})
        assert forbidden.status_code == 403
        edited = await client.put(path, json={"amount_minor": 7_500, "description": "Revised"})
        assert edited.status_code == 200 and edited.json()["amount_minor"] == 7_500
        approved = await client.post(f"{path}/approve", headers={"X-API-Key": APPROVER_KEY})
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == "amir-approver" and approved.json()["approved_at"]
        # Approved terms are frozen; approving twice is a state conflict naming the state.
        frozen = await client.put(path, json={"amount_minor": 1})
        assert frozen.status_code == 409 and frozen.json()["current_status"] == "approved"
        twice = await client.post(f"{path}/approve", headers={"X-API-Key": APPROVER_KEY})
        assert twice.status_code == 409 and twice.json()["current_status"] == "approved"
        unapproved = await client.post(f"{path}/unapprove", headers={"X-API-Key": APPROVER_KEY})
        assert unapproved.json()["status"] == "unapproved"
        cancelled = await client.post(f"{path}/cancel", headers={"X-API-Key": OPERATOR_KEY})
        assert cancelled.json()["status"] == "cancelled"
        late = await client.post(f"{path}/approve")
        assert late.status_code == 409 and late.json()["current_status"] == "cancelled"
        # Another workspace does not see it at all.
        assert (await client.get(path, headers={"X-API-Key": OTHER_WORKSPACE_KEY})).status_code == 404

        listed = await client.get("/payables", params={"status": "cancelled", "payee_id": payee, "limit": 1})
        assert [item["id"] for item in listed.json()["data"]] == [payable["id"]]
        # An external id names one payable per workspace.
        duplicate = await client.post(
            "/payable",
            json={
                "payee_id": payee,
                "amount_minor": 5,
                "currency": "USD",
                "description": "again",
                "external_id": payable["external_id"],
            },
        )
        assert duplicate.status_code == 409 and duplicate.json()["payable_id"] == payable["id"]

        # A retried create with the same Idempotency-Key answers the first response again.
        key = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"payee_id": payee, "amount_minor": 42, "currency": "USD", "description": "retried"}
        first = await client.post("/payable", json=body, headers=key)
        retry = await client.post("/payable", json=body, headers=key)
        assert first.status_code == retry.status_code == 201
        assert retry.json()["id"] == first.json()["id"] and retry.headers["Idempotent-Replayed"] == "true"
        # Cursor pagination over the workspace's payables.
        page_one = (await client.get("/payables", params={"payee_id": payee, "limit": 1})).json()
        assert page_one["has_more"] is True
        cursor = page_one["data"][0]["id"]
        page_two = (await client.get("/payables", params={"payee_id": payee, "starting_after": cursor})).json()
        assert page_two["has_more"] is False
        assert [p["id"] for p in page_two["data"]] == [first.json()["id"]]


async def test_cancelling_a_funding_returns_its_payables_to_approved(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, flow_settings: FundingSettings
) -> None:
    payee = await new_payee(ledger, "Faye")
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 8_000)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        cancelled = await client.post(f"/funding/{funding['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        back = (await client.get(f"/payable/{payable['id']}")).json()
        assert (back["status"], back["funding_id"]) == ("approved", None)
        assert (await client.post(f"/funding/{funding['id']}/cancel")).status_code == 409
        again = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        assert again["invoice"]["number"] != funding["invoice"]["number"]
    (event,) = await outbox_events(flow_settings, "funding.cancelled")
    assert event["payable_ids"] == [payable["id"]] and event["status"] == "cancelled"


async def test_the_invoice_is_a_pdf_document(running_flow: RunningFlow, ledger: httpx.AsyncClient) -> None:
    payee = await new_payee(ledger, "Gus")
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 123_456)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        as_json = (await client.get(f"/funding/{funding['id']}/invoice")).json()
        assert as_json["total_minor"] == 123_456 and as_json["lines"][0]["payable_id"] == payable["id"]
        for request in (
            client.get(f"/funding/{funding['id']}/invoice", params={"format": "pdf"}),
            client.get(f"/funding/{funding['id']}/invoice", headers={"Accept": "application/pdf"}),
        ):
            response = await request
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/pdf"
            document = PdfReader(io.BytesIO(response.content))
            page_text = "".join(page.extract_text() for page in document.pages)
            assert funding["invoice"]["number"] in page_text
            assert funding["invoice"]["payment_reference"] in page_text
            assert "1234.56 USD" in page_text


async def test_pre_funding_pays_approvals_from_the_workspace_balance(
    running_flow: RunningFlow,
    ledger: httpx.AsyncClient,
    processor: AIOKafkaProducer,
    flow_settings: FundingSettings,
) -> None:
    payee = await new_payee(ledger, "Hana")
    async with running_flow() as client:
        topup = await create_funding(client, {"amount_minor": 10_000, "currency": "USD", "recipient": RECIPIENT})
        assert topup["kind"] == "prefunding" and topup["payable_ids"] == [] and topup["total_minor"] == 10_000
        body = await publish_transfer(processor, 10_000, reference=topup["invoice"]["payment_reference"])
        await wait_for_deposit(client, body["transfer_id"])
        linked = await client.post(f"/funding/{topup['id']}/link-deposit", json={"transfer_id": body["transfer_id"]})
        assert linked.status_code == 200 and linked.json()["status"] == "paid_out"
        workspace = (await client.get("/workspace")).json()
        identity = workspace["ledger_identity_id"]
        assert await wallet_balance(ledger, identity) == 10_000

        paid_at_once = await approved_payable(client, payee, 6_000)
        assert paid_at_once["status"] == "paid", paid_at_once
        assert await wallet_balance(ledger, payee) == 6_000
        assert await wallet_balance(ledger, identity) == 4_000

        waits = await approved_payable(client, payee, 5_000)
        assert waits["status"] == "approved"
        later = await approved_payable(client, payee, 1_000)
        # Approving pays at once whenever the balance covers the payable at that moment.
        assert later["status"] == "paid"
        assert await wallet_balance(ledger, identity) == 3_000

        more = await create_funding(client, {"amount_minor": 2_000, "currency": "USD", "recipient": RECIPIENT})
        deposit = await publish_transfer(processor, 2_000, reference=more["invoice"]["payment_reference"])
        await wait_for_deposit(client, deposit["transfer_id"])
        # Linked here, or first by the deposit's automatic link (its reference names the invoice):
        # either way the waiting payable is paid, the automatic one after its event lands.
        relinked = await client.post(
            f"/funding/{more['id']}/link-deposit", json={"transfer_id": deposit["transfer_id"]}
        )
        assert relinked.status_code in (200, 409), relinked.text

        async def waiting_payable_paid() -> bool:
            return bool((await client.get(f"/payable/{waits['id']}")).json()["status"] == "paid")

        await wait_until(waiting_payable_paid, "the payable waiting for money is paid once the deposit lands")
        assert await wallet_balance(ledger, identity) == 0
        assert await wallet_balance(ledger, payee) == 12_000

    paid = await outbox_events(flow_settings, "payable.paid")
    assert {event["payable_id"] for event in paid} == {paid_at_once["id"], waits["id"], later["id"]}
    assert all(event["funding_id"] is None for event in paid)


async def test_auto_link_pays_a_matching_deposit_without_a_person(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, processor: AIOKafkaProducer
) -> None:
    payee = await new_payee(ledger, "Ivan")
    async with running_flow() as client:
        enabled = await client.patch("/workspace", json={"auto_link_deposits": True})
        assert enabled.status_code == 200 and enabled.json()["auto_link_deposits"] is True
        payable = await approved_payable(client, payee, 4_321)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        await publish_transfer(processor, 4_321, reference=funding["invoice"]["payment_reference"])

        async def paid_out() -> bool:
            return (await client.get(f"/funding/{funding['id']}")).json()["status"] == "paid_out"

        await wait_until(paid_out, "the automatic link")
        assert (await client.get(f"/payable/{payable['id']}")).json()["status"] == "paid"
    assert await wallet_balance(ledger, payee) == 4_321


async def test_a_link_interrupted_by_a_ledger_outage_completes_after_restart(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, processor: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    payee = await new_payee(ledger, "Jon")
    quiet = flow_settings.model_copy(update={"recovery_enabled": False})
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 9_900)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        body = await publish_transfer(processor, 9_900, reference=None)
        await wait_for_deposit(client, body["transfer_id"])

    # The deposit reaches the clearing balance, then the ledger goes away before the payees are paid.
    def payee_legs_fail(request: httpx.Request) -> bool:
        # The payees are paid in one bulk request (`POST /transactions/bulk`).
        postings = ("/transactions", "/transactions/bulk")
        return request.method == "POST" and request.url.path in postings and b":payable:" in request.content

    async with running_flow(fails=payee_legs_fail, settings=quiet) as client:
        accepted = await client.post(
            f"/funding/{funding['id']}/link-deposit", json={"transfer_id": body["transfer_id"]}
        )
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["status"] == "funded"
    assert await internal_balance(ledger, f"@FundingClearing-{funding['id']}") == 9_900

    async with running_flow() as client:  # a new process: its recovery loop resumes the funding

        async def paid_out() -> bool:
            return (await client.get(f"/funding/{funding['id']}")).json()["status"] == "paid_out"

        await wait_until(paid_out, "recovery to finish the link")
    assert await wallet_balance(ledger, payee) == 9_900
    assert await internal_balance(ledger, f"@FundingClearing-{funding['id']}") == 0
    assert len(await outbox_events(flow_settings, "payable.paid")) == 1


async def test_a_hold_left_open_by_a_crash_is_committed_by_recovery(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, processor: AIOKafkaProducer, flow_settings: FundingSettings
) -> None:
    payee = await new_payee(ledger, "Kim")
    quiet = flow_settings.model_copy(update={"recovery_enabled": False})
    async with running_flow() as client:
        topup = await create_funding(client, {"amount_minor": 3_000, "currency": "USD", "recipient": RECIPIENT})
        body = await publish_transfer(processor, 3_000, reference=None)
        await wait_for_deposit(client, body["transfer_id"])
        await client.post(f"/funding/{topup['id']}/link-deposit", json={"transfer_id": body["transfer_id"]})
        payable = await approved_payable(client, payee, 2_500, approve=False)

    def commits_fail(request: httpx.Request) -> bool:
        return request.method == "PUT" and request.url.path.startswith("/transactions/inflight/")

    async with running_flow(fails=commits_fail, settings=quiet) as client:
        approved = await client.post(f"/payable/{payable['id']}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "paying"
    identity = (await ledger.get("/identities")).status_code  # the ledger is fine; only funding lost its way
    assert identity == 200

    async with running_flow() as client:

        async def paid() -> bool:
            return (await client.get(f"/payable/{payable['id']}")).json()["status"] == "paid"

        await wait_until(paid, "recovery to commit the hold")
    assert await wallet_balance(ledger, payee) == 2_500
    (event,) = await outbox_events(flow_settings, "payable.paid")
    assert event["ledger_transaction_reference"] == f"funding:payable:{payable['id']}:commit:1"


async def test_an_unpaid_funding_expires_and_frees_its_payables(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, flow_settings: FundingSettings
) -> None:
    payee = await new_payee(ledger, "Lea")
    async with running_flow() as client:
        payable = await approved_payable(client, payee, 6_600)
        funding = await create_funding(client, {"payable_ids": [payable["id"]], "recipient": RECIPIENT})
        app = client._transport.app  # type: ignore[attr-defined]
        context: FundingContext = app.state.funding_context
        overdue = datetime.fromisoformat(funding["expires_at"]) + timedelta(seconds=1)
        report = await recover_once(dataclasses.replace(context, clock=lambda: overdue))
        assert report.fundings_expired == 1 and report.failures == 0
        expired = (await client.get(f"/funding/{funding['id']}")).json()
        assert expired["status"] == "expired"
        back = (await client.get(f"/payable/{payable['id']}")).json()
        assert (back["status"], back["funding_id"]) == ("approved", None)
    (event,) = await outbox_events(flow_settings, "funding.cancelled")
    assert (event["status"], event["cancelled_by"]) == ("expired", None)


async def forget_stored_answer(database_url: str, key: str) -> None:
    """What a process killed between the funding's commit and storing the key's answer leaves."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            deleted = await connection.execute(
                idempotency_keys.delete().where(idempotency_keys.c.idempotency_key == key)
            )
            assert deleted.rowcount == 1
    finally:
        await engine.dispose()


async def test_a_retried_funding_whose_answer_was_lost_finds_the_funding_its_key_created(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, flow_settings: FundingSettings
) -> None:
    """The funding commits, then the process dies before the platform stores the key's answer (seen
    in the chaos run after funding was killed): the retry runs the route again. It must answer the
    funding the key created, not refuse its payables as already in a funding, as it did."""
    payee = await new_payee(ledger, "Retry")
    key = f"funding-{uuid.uuid4().hex[:10]}"
    async with running_flow() as client:
        payables = [await approved_payable(client, payee, 5_000), await approved_payable(client, payee, 7)]
        body = {"payable_ids": [p["id"] for p in payables], "recipient": RECIPIENT}
        first = await client.post("/funding", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        await forget_stored_answer(flow_settings.database_url, key)

        retried = await client.post("/funding", json=body, headers={"Idempotency-Key": key})
        assert retried.status_code == 201, retried.text
        assert retried.json()["id"] == first.json()["id"] and retried.json()["total_minor"] == 5_007

        # The same key for other payables is a different request: refused, and nothing is created.
        other = await approved_payable(client, payee, 1)
        await forget_stored_answer(flow_settings.database_url, key)
        mismatched = await client.post(
            "/funding", json={"payable_ids": [other["id"]], "recipient": RECIPIENT}, headers={"Idempotency-Key": key}
        )
        assert mismatched.status_code == 422, mismatched.text
        assert mismatched.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert (await client.get(f"/payable/{other['id']}")).json()["status"] == "approved"

        # Without a key, funding the same payables again is refused as before.
        assert (await client.post("/funding", json=body)).status_code == 422
