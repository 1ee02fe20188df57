"""Browser fixtures for the console: Debian's chromium driven by Playwright, over the real platform.

Playwright's own browser download does not work on these machines, so the system `chromium` is
launched through `executable_path`. A missing chromium fails the tests with a clear message (CI's
.ci/run installs it); it never skips them.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from clearway.devstack.stack import Platform
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

ROOT = Path(__file__).resolve().parents[4]
SCREENSHOTS = ROOT / "bench-results" / "console"
BLOCKING_IMPACTS = ("serious", "critical")
HTTP_TIMEOUT_S = 30.0
ADMIN_PAYMENTS = "/api/v1/admin/payments"
_AXE = Axe()


def chromium_path() -> str:
    found = os.environ.get("CLEARWAY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "chromium is not installed: the console's browser tests drive Debian's `chromium` package "
            "(apt-get install -y chromium; .ci/run does it) or the binary named by CLEARWAY_CHROMIUM.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    # Session-scoped so that pytest checks it before it starts the (session-scoped) platform.
    return chromium_path()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser(chromium_executable: str) -> AsyncIterator[Browser]:
    """One browser per module: each test opens its own contexts (cookies) in it."""
    executable = chromium_executable
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def console_url(running_platform: Platform) -> str:
    return running_platform.url("console")


async def signed_in(browser: Browser, console_url: str, api_key: str) -> Page:
    """A fresh context (its own cookies) signed in with `api_key` through the sign-in form."""
    context = await browser.new_context(base_url=console_url, timezone_id="Africa/Nairobi", locale="en-GB")
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.get_by_label("Operator API key").fill(api_key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/$"))
    return page


async def scan_and_capture(page: Page, name: str) -> None:
    """Screenshot under bench-results/console/ and fail on serious or critical axe violations."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = await _AXE.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"{name}: accessibility violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}" for v in blocking
    )


# -- data the flows act on, made through the services' own APIs (nothing is mocked) ----------------


async def pending_withdrawal(
    platform: Platform, amount_minor: int = 12_345, *, currency: str = "KES", bank: bool = False
) -> dict[str, Any]:
    """A user whose wallet an operator credited in the ledger asks for a withdrawal: pending approval.
    Mobile money by default; `bank` withdraws to an IBAN, which payout pays in a pain.001 batch."""
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=HTTP_TIMEOUT_S) as ledger:
        identity = await ledger.post("/identities", json={"identity_type": "individual", "first_name": "Wanjiru"})
        assert identity.status_code == 201, identity.text
        identity_id = identity.json()["identity_id"]
        balance = await ledger.post(
            "/balances", json={"indicator": f"wallet:{identity_id}", "identity_id": identity_id, "currency": currency}
        )
        assert balance.status_code in (200, 201), balance.text
        credit_reference = f"console-e2e-credit-{uuid.uuid4().hex}"
        credited = await ledger.post(
            "/transactions",
            json={
                "precise_amount": 100_000,
                "currency": currency,
                "reference": credit_reference,
                "source": f"@ConsoleE2EFunding-{currency}",
                "destination": balance.json()["balance_id"],
                "allow_overdraft": True,
            },
        )
        assert credited.status_code == 201, credited.text
    user_headers = {"Authorization": f"Bearer {platform.user_token(identity_id)}"}
    async with httpx.AsyncClient(base_url=platform.url("payout"), headers=user_headers, timeout=HTTP_TIMEOUT_S) as user:
        phone = f"+2547{uuid.uuid4().int % 10**8:08d}"
        method_body = (
            {"type": "bank_account", "iban": "DE89370400440532013000", "account_holder_name": "Ada Obi"}
            if bank
            else {"type": "mobile_money", "provider": "mpesa", "phone_number": phone}
        )
        method = await user.post("/api/v1/payments/withdrawal-methods", json=method_body)
        assert method.status_code == 201, method.text
        created = await user.post(
            "/api/v1/payments/withdrawals",
            json={"withdrawal_method_id": method.json()["id"], "amount_minor": amount_minor, "currency": currency},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert created.status_code == 201, created.text
    withdrawal: dict[str, Any] = created.json()["withdrawal"]
    assert withdrawal["status"] == "pending_approval", withdrawal
    # The ledger reference of the wallet's credit: what an operator would search the ledger for.
    return {**withdrawal, "credit_reference": credit_reference, "balance_id": balance.json()["balance_id"]}


async def unreconciled_line(platform: Platform) -> dict[str, str]:
    """A link that does not match by itself, an expectation on it, and a bank line whose reference
    differs: the line stays unreconciled until an operator matches it."""
    run = uuid.uuid4().hex[:8]
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=HTTP_TIMEOUT_S) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=HTTP_TIMEOUT_S) as recon,
    ):
        books = await ledger.post("/ledgers", json={"name": f"Console books {run}", "ik": f"console-{run}"})
        assert books.status_code in (200, 201), books.text
        link = await recon.post(
            "/links",
            json={
                "name": f"Console bank {run}",
                "kind": "bank_statement",
                "ledger_id": books.json()["ledger_id"],
                "currency": "KES",
                "auto_match": False,
            },
        )
        assert link.status_code == 201, link.text
        link_id = link.json()["id"]
        expectation = await recon.post(
            "/expectations",
            json={
                "link_id": link_id,
                "currency": "KES",
                "direction": "inbound",
                "amount_minor": 75_050,
                "reference": f"INV-{run}",
                "account_path": f"liabilities/user_balances:console-{run}",
            },
        )
        assert expectation.status_code == 201, expectation.text
        statement = (
            "booked_on,direction,amount_minor,currency,reference,external_id,description\n"
            f"2026-11-29,inbound,75050,KES,BANKREF-{run},line-{run},Customer paid without the invoice number\n"
        )
        imported = await recon.post(f"/links/{link_id}/statements", params={"format": "csv"}, content=statement)
        assert imported.status_code == 201, imported.text

        async def line_shown() -> dict[str, Any] | None:
            answer = (await recon.get("/unreconciled", params={"link_id": link_id})).json()
            return answer["data"][0] if answer["data"] else None

        line = await wait_until(line_shown, "the bank line is unreconciled", timeout_s=20)
    return {
        "link_id": link_id,
        "line_id": line["id"],
        "external_id": f"line-{run}",
        "expectation_id": expectation.json()["id"],
    }


async def card_account_with_decisions(platform: Platform) -> dict[str, Any]:
    """A card account with a card, one authorization approved and one declined for funds."""
    run = uuid.uuid4().hex[:8]
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=HTTP_TIMEOUT_S) as ledger,
        httpx.AsyncClient(base_url=platform.url("authorization"), headers=headers, timeout=HTTP_TIMEOUT_S) as cards,
    ):
        identity = await ledger.post("/identities", json={"first_name": "Akinyi", "last_name": "Otieno"})
        assert identity.status_code == 201, identity.text
        account = await cards.post(
            "/card-accounts",
            json={
                "identity_id": identity.json()["identity_id"],
                "currency": "USD",
                "credit_limit_minor": 500_000,
                "billing_cycle_day": 1,
                "payment_due_days": 21,
            },
            headers={"Idempotency-Key": f"console-card-{run}"},
        )
        assert account.status_code == 201, account.text
        card = await cards.post(
            f"/card-accounts/{account.json()['id']}/cards", json={"last_four": "4242", "expires": "09/39"}
        )
        assert card.status_code == 201, card.text
        for amount_minor, merchant in ((12_050, "Corner Coffee"), (600_000, "Big Screens Ltd")):
            decided = await cards.post(
                "/authorizations",
                json={
                    "authorization_id": f"console-auth-{uuid.uuid4().hex[:12]}",
                    "card_id": card.json()["id"],
                    "amount_minor": amount_minor,
                    "currency": "USD",
                    "merchant_name": merchant,
                    "merchant_category_code": "5814",
                    "channel": "pos",
                    "requested_at": datetime.now(UTC).isoformat(),
                },
            )
            assert decided.status_code == 201, decided.text
    found: dict[str, Any] = account.json()
    return found


async def batched_bank_withdrawal(platform: Platform) -> str:
    """A bank withdrawal approved by two principals: payout puts it in an open pain.001 batch."""
    withdrawal = await pending_withdrawal(platform, amount_minor=30_000, currency="EUR", bank=True)
    assert platform.approver_api_key
    async with (
        httpx.AsyncClient(
            base_url=platform.url("payout"), headers={"X-API-Key": platform.api_key}, timeout=HTTP_TIMEOUT_S
        ) as asker,
        httpx.AsyncClient(
            base_url=platform.url("payout"), headers={"X-API-Key": platform.approver_api_key}, timeout=HTTP_TIMEOUT_S
        ) as approver,
    ):
        asked = await asker.post(f"{ADMIN_PAYMENTS}/withdrawals/{withdrawal['id']}/settlement-requests")
        assert asked.status_code == 202, asked.text
        approved = await approver.post(f"{ADMIN_PAYMENTS}/approval-requests/{asked.json()['id']}/approvals")
        assert approved.status_code == 200, approved.text

        async def batch_id() -> str | None:
            found = (await asker.get(f"/api/v1/payments/withdrawals/{withdrawal['id']}")).json()["withdrawal"]
            return found.get("batch_id") or None

        found: str = await wait_until(batch_id, "the bank withdrawal is batched", timeout_s=20)
    return found


async def pending_clearing_account(platform: Platform) -> dict[str, str]:
    """A customer's money in reconciled on a new link, then a payment out of it expected and not yet
    seen at the bank: reconciliation initiates it in the ledger, whose
    `liabilities/pending_withdrawals:<payment>` clearing account then waits."""
    run = uuid.uuid4().hex[:8]
    customer = f"liabilities/user_balances:console-out-{run}"
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=HTTP_TIMEOUT_S) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=HTTP_TIMEOUT_S) as recon,
    ):
        books = await ledger.post("/ledgers", json={"name": f"Console clearing {run}", "ik": f"console-cl-{run}"})
        assert books.status_code in (200, 201), books.text
        ledger_id = books.json()["ledger_id"]
        link = await recon.post(
            "/links",
            json={
                "name": f"Console payouts {run}",
                "kind": "bank_statement",
                "ledger_id": ledger_id,
                "currency": "KES",
            },
        )
        assert link.status_code == 201, link.text
        link_id = link.json()["id"]
        expected_in = {"link_id": link_id, "currency": "KES", "account_path": customer}
        received = await recon.post(
            "/expectations",
            json={**expected_in, "direction": "inbound", "amount_minor": 50_000, "reference": f"IN-{run}"},
        )
        assert received.status_code == 201, received.text
        statement = (
            "booked_on,direction,amount_minor,currency,reference,external_id,description\n"
            f"{datetime.now(UTC).date().isoformat()},inbound,50000,KES,IN-{run},in-{run},Customer top-up\n"
        )
        imported = await recon.post(f"/links/{link_id}/statements", params={"format": "csv"}, content=statement)
        assert imported.status_code == 201, imported.text

        async def sent() -> httpx.Response | None:
            # The money in covers the payment out once it is matched and posted.
            answer = await recon.post(
                "/expectations",
                json={**expected_in, "direction": "outbound", "amount_minor": 20_000, "reference": f"PO-{run}"},
            )
            return answer if answer.status_code == 201 else None

        payment = await wait_until(sent, "the payment out is initiated", timeout_s=20)
    expected_out = payment.json()
    payment_id = expected_out["source_id"] or expected_out["id"]  # reconciliation's own payment id
    return {"ledger_id": ledger_id, "path": f"liabilities/pending_withdrawals:{payment_id}"}


async def funding_awaiting_a_deposit(platform: Platform, amount_minor: int = 48_000) -> dict[str, Any]:
    """A pre-funding invoice (funding's own API) and the bank transfer that pays it, as the outside
    processor announces it (`transfer.created`, the public contract) without the invoice's reference,
    so funding cannot link it by itself: an operator must."""
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("funding"), headers=headers, timeout=HTTP_TIMEOUT_S) as funding:
        created = await funding.post(
            "/funding",
            json={
                "amount_minor": amount_minor,
                "currency": "USD",
                "recipient": {"name": "Globex Finance", "email": "ap@globex.example"},
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert created.status_code == 201, created.text
        transfer = {
            "transfer_id": f"trf_console_{uuid.uuid4().hex[:12]}",
            "processor": "acme-bank",
            "direction": "inbound",
            "amount_minor": amount_minor,
            "currency": "USD",
            "account_id": "acct_operating_usd",
            "payment_reference": None,
            "counterparty": {"name": "Globex Finance", "account": "021000021-99887766"},
            "settled_at": datetime.now(UTC).isoformat(),
        }
        async with started_producer(platform.kafka_bootstrap_servers) as producer:
            await publish_as_processor(
                producer,
                "transfer.created",
                transfer,
                key=transfer["transfer_id"],
                event_id=str(uuid.uuid4()),
                source="urn:clearway-tests:console-e2e",
            )

        async def deposit_recorded() -> bool | None:
            listed = (await funding.get("/deposits", params={"linked": "false", "limit": 100})).json()["data"]
            return any(item["transfer_id"] == transfer["transfer_id"] for item in listed) or None

        await wait_until(deposit_recorded, "funding records the deposit", timeout_s=20)
    return {"funding": created.json(), "transfer_id": transfer["transfer_id"]}


async def refused_payment_out(platform: Platform) -> dict[str, str]:
    """A payment out the ledger refused to initiate (the customer has nothing), then seen at the
    bank: reconciliation matches the bank line to it, the ledger refuses the posting, and the match
    is held as failed with a `posting_failed` break for an operator (as reconciliation's own tests do)."""
    run = uuid.uuid4().hex[:8]
    headers = {"X-API-Key": platform.api_key}
    async with (
        httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=HTTP_TIMEOUT_S) as ledger,
        httpx.AsyncClient(base_url=platform.url("reconciliation"), headers=headers, timeout=HTTP_TIMEOUT_S) as recon,
    ):
        books = await ledger.post("/ledgers", json={"name": f"Console refused {run}", "ik": f"console-rf-{run}"})
        assert books.status_code in (200, 201), books.text
        link = await recon.post(
            "/links",
            json={
                "name": f"Console refusals {run}",
                "kind": "bank_statement",
                "ledger_id": books.json()["ledger_id"],
                "currency": "KES",
            },
        )
        assert link.status_code == 201, link.text
        link_id = link.json()["id"]
        refused = await recon.post(
            "/expectations",
            json={
                "link_id": link_id,
                "currency": "KES",
                "direction": "outbound",
                "amount_minor": 800,
                "reference": f"BROKE-{run}",
                "account_path": f"liabilities/user_balances:console-broke-{run}",
            },
        )
        assert refused.status_code == 422, refused.text
        statement = (
            "booked_on,direction,amount_minor,currency,reference,external_id,description\n"
            f"{datetime.now(UTC).date().isoformat()},outbound,800,KES,BROKE-{run},broke-{run},Payment out\n"
        )
        imported = await recon.post(f"/links/{link_id}/statements", params={"format": "csv"}, content=statement)
        assert imported.status_code == 201, imported.text

        async def failed_match() -> dict[str, Any] | None:
            matches = (await recon.get("/matches", params={"link_id": link_id})).json()["data"]
            return next((match for match in matches if match["status"] == "failed"), None)

        match = await wait_until(failed_match, "the ledger refuses the match's posting", timeout_s=20)

        async def posting_break() -> dict[str, Any] | None:
            found = (await recon.get("/breaks", params={"kind": "posting_failed", "limit": 100})).json()["data"]
            return next((item for item in found if item["detail"].get("match_id") == match["id"]), None)

        found_break = await wait_until(posting_break, "a posting_failed break is raised", timeout_s=20)
    return {"link_id": link_id, "match_id": match["id"], "break_id": found_break["id"]}


# An undecodable body (cut-off JSON) is dead-lettered at once, with no handler attempts and nothing
# logged but its place; the phone number in it shows that the preview masks what the payload carries.
POISON_PHONE = "+254712345678"
POISON_BODY = b'{"payable_id": "pay_console_dead_letter", "phone": "' + POISON_PHONE.encode() + b'"'


async def dead_lettered_record(platform: Platform) -> dict[str, Any]:
    """A record payout cannot read, sent to `payable.paid`: payout copies it to the DLQ and records it."""
    async with started_producer(platform.kafka_bootstrap_servers) as producer:
        sent = await producer.send_and_wait(
            "payable.paid",
            POISON_BODY,
            key=b"pay_console_dead_letter",
            headers=[("ce_id", f"evt_{uuid.uuid4().hex}".encode()), ("ce_type", b"payable.paid")],
        )
    async with httpx.AsyncClient(
        base_url=platform.url("payout"), headers={"X-API-Key": platform.api_key}, timeout=HTTP_TIMEOUT_S
    ) as payout:

        async def recorded() -> dict[str, Any] | None:
            answer = await payout.get("/admin/dead-letters", params={"topic": "payable.paid", "limit": 100})
            found = answer.json()["data"]
            at = (sent.partition, sent.offset)
            return next((item for item in found if (item["partition"], item["offset"]) == at), None)

        found: dict[str, Any] = await wait_until(recorded, "payout recorded the dead letter", timeout_s=30)
    return found
