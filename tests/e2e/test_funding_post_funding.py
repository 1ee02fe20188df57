"""Seed 000 (post-funding) end to end: five services as processes, a processor on Kafka.

Beyond the happy path: the same `transfer.created` delivered again and retried under a new id,
a deposit of the wrong amount (422, nothing changes), a double link (409), and funding stopped
mid-flow while the payer's transfer arrives. The ledger must add up to zero at the end.
"""

from __future__ import annotations

import asyncio

import pytest

from clearway.devstack.stack import Platform

from .funding_flows import (
    FundingFlowApi,
    expect_ledger_balanced,
    link_and_expect_paid,
    pay_invoice,
    prepare_invoice,
    run_post_funding,
    wait_for_deposit,
)
from .walking_skeleton import CONSUMER_GROUPS, SERVICES, Processor, new_event_id, wait_until_consumed

pytestmark = pytest.mark.e2e


async def test_post_funding_survives_duplicates_mismatches_and_a_restart(running_platform: Platform) -> None:
    report = print
    urls = {service: running_platform.url(service) for service in SERVICES}
    bootstrap = running_platform.kafka_bootstrap_servers
    async with FundingFlowApi(urls, running_platform.api_key) as api, Processor(bootstrap) as processor:
        invoice = await prepare_invoice(api, report)
        funding_id = invoice.funding["id"]

        # A short payment first: refused with both figures, and nothing changes.
        short_body, _ = await pay_invoice(processor, invoice, report, amount_minor=invoice.total_minor - 1)
        await wait_for_deposit(api, short_body["transfer_id"])
        refused = await api.link(funding_id, short_body["transfer_id"])
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert (problem["invoice_total_minor"], problem["deposit_amount_minor"]) == (
            invoice.total_minor,
            invoice.total_minor - 1,
        )
        assert (await api.get_funding(funding_id))["status"] == "awaiting_funds"
        assert (await wait_for_deposit(api, short_body["transfer_id"]))["status"] == "unlinked"

        # Funding goes down; the right payment settles meanwhile, and is delivered twice more.
        await asyncio.to_thread(running_platform.stop_service, "funding")
        report("funding stopped")
        body, first = await pay_invoice(processor, invoice, report)
        duplicates = [
            await processor.publish(body, event_id=first.event_id),
            await processor.publish(body, event_id=new_event_id()),
        ]
        await asyncio.to_thread(running_platform.start_service, "funding")
        report("funding restarted")
        await wait_until_consumed(
            bootstrap, running_platform.consumer_group_prefix + CONSUMER_GROUPS["funding"], [first, *duplicates]
        )
        deposit = await wait_for_deposit(api, body["transfer_id"])  # exactly one, despite three deliveries
        assert deposit["proposed_funding_id"] == funding_id

        await link_and_expect_paid(api, invoice, body["transfer_id"], report)
        double = await api.link(funding_id, body["transfer_id"])
        assert double.status_code == 409, double.text
        assert double.json()["code"] == "DEPOSIT_ALREADY_LINKED"
        other = await api.link(funding_id, short_body["transfer_id"])
        assert other.status_code == 409 and other.json()["current_status"] == "paid_out"

        # The link's events are in the outbox once each (one payable.paid per payable).
        for payable in invoice.payables:
            assert (await api.payable(payable["id"]))[
                "ledger_reference"
            ] == f"funding:{funding_id}:payable:{payable['id']}"
        await expect_ledger_balanced(api, report)


async def test_the_demo_post_funding_step(running_platform: Platform) -> None:
    """What `make demo` runs as its post-funding step, so the demo cannot rot unnoticed."""
    urls = {service: running_platform.url(service) for service in SERVICES}
    async with (
        FundingFlowApi(urls, running_platform.api_key) as api,
        Processor(running_platform.kafka_bootstrap_servers) as processor,
    ):
        invoice = await run_post_funding(processor, api, print)
    assert invoice.funding["kind"] == "payables"
