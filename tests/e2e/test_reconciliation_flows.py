"""Reconciliation over the running platform: five real processes, driven by HTTP as a finance team
would (seed 003: a payment received, a bulk receipt split across three users, a payment sent, the
FRAGMENT PendingPayments query), and `transfer.created` from a processor landing on its link."""

from __future__ import annotations

import httpx
import pytest

from clearway.devstack.stack import Platform
from clearway.devstack.testing import wait_until

from .reconciliation_scenario import run_reconciliation
from .seed_queries_scenario import SeedQueryChecks
from .walking_skeleton import Processor, new_event_id, new_transfer

pytestmark = pytest.mark.e2e


async def test_seed_003_flows_leave_nothing_unreconciled(running_platform: Platform) -> None:
    platform = running_platform
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=30) as recon,
    ):
        await run_reconciliation(ledger, recon, print)


async def test_a_processors_transfer_lands_on_its_link_and_matches_the_expectation(running_platform: Platform) -> None:
    platform = running_platform
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=30) as recon,
        Processor(platform.kafka_bootstrap_servers) as processor,
    ):
        books = (await ledger.post("/ledgers", json={"name": "e2e transfers"})).json()
        body = new_transfer(42_000, reference="E2E-REF", currency="KES")
        account = body["account_id"] + "-" + body["transfer_id"]
        body["account_id"] = account
        link = (
            await recon.post(
                "/links",
                json={
                    "name": "processor",
                    "kind": "processor",
                    "currency": "KES",
                    "ledger_id": books["ledger_id"],
                    "external_account_id": account,
                },
            )
        ).json()
        await recon.post(
            "/expectations",
            json={
                "link_id": link["id"],
                "direction": "inbound",
                "amount_minor": 42_000,
                "currency": "KES",
                "reference": "E2E-REF",
            },
        )
        await processor.publish(body, event_id=new_event_id())

        async def reconciled() -> bool:
            found = (await recon.get("/external-transactions", params={"link_id": link["id"]})).json()["data"]
            return bool(found) and found[0]["status"] == "reconciled"

        await wait_until(reconciled, "the transfer is reconciled on its link", timeout_s=60)


async def test_seed_003_queries_run_verbatim_against_the_running_platform(running_platform: Platform) -> None:
    """The seed's four queries, byte for byte, against its own ledger ik (`ledger_123`, shared by
    every run: created once, then answered as the existing ledger). Each run leaves its own lines and
    payments reconciled again, so what it asserts is about its own items only."""
    platform = running_platform
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=30) as recon,
    ):
        checks = SeedQueryChecks(ledger, recon)
        await checks.run()
