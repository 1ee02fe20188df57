"""The console in a real browser over the running platform: sign-in, dual approval by two
principals, a manual match, and a role's refusal. Every page is scanned with axe and captured
under bench-results/console/."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from clearway.devstack.stack import Platform

from .conftest import (
    card_account_with_decisions,
    pending_withdrawal,
    refused_payment_out,
    scan_and_capture,
    signed_in,
    unreconciled_line,
)

pytestmark = pytest.mark.e2e
ADMIN_PAYMENTS = "/api/v1/admin/payments"


async def _csrf_token(page: Page) -> str:
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


async def _withdrawal_status(platform: Platform, withdrawal_id: str) -> str:
    async with httpx.AsyncClient(base_url=platform.url("payout"), headers={"X-API-Key": platform.api_key}) as payout:
        answer = await payout.get(f"/api/v1/payments/withdrawals/{withdrawal_id}")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["withdrawal"]["status"])


async def test_an_operator_signs_in_sees_who_they_are_and_signs_out(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    context = await browser.new_context(base_url=console_url)
    page = await context.new_page()
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await scan_and_capture(page, "01-sign-in")

    await page.get_by_label("Operator API key").fill("not-a-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not an operator API key")
    await context.close()

    page = await signed_in(browser, console_url, running_platform.api_key)
    await expect(page.get_by_test_id("principal")).to_have_text("dev-admin")
    await expect(page.get_by_test_id("roles")).to_contain_text("admin")
    await expect(page.get_by_role("heading", name="Services")).to_be_visible()
    for service in ("ledger", "payout", "reconciliation"):
        await expect(page.get_by_role("row", name=re.compile(service))).to_contain_text("ready")
    await scan_and_capture(page, "02-overview")

    # The key lives on the server: the browser holds only an HttpOnly, SameSite=Strict session id.
    cookies = await page.context.cookies()
    session = next(cookie for cookie in cookies if cookie["name"] == "clearway_console_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert running_platform.api_key not in session["value"]
    # Browser storage holds no key and no page copy (htmx's history cache is off); htmx keeps
    # only the current path there.
    stored = await page.evaluate(
        "Object.fromEntries([...Object.entries(localStorage), ...Object.entries(sessionStorage)])"
    )
    assert set(stored) <= {"htmx-current-path-for-history"}, stored
    assert running_platform.api_key not in str(stored)
    assert running_platform.api_key not in await page.content()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await page.goto("/payouts/approvals")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await page.context.close()


async def test_a_withdrawal_is_approved_by_a_second_principal(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    withdrawal = await pending_withdrawal(running_platform)
    assert running_platform.approver_api_key
    operator = await signed_in(browser, console_url, running_platform.api_key)
    await operator.goto("/payouts/withdrawals?status=pending_approval")
    row = operator.locator(f"tr[data-withdrawal='{withdrawal['id']}']")
    await expect(row).to_contain_text("KES 123.45")
    await scan_and_capture(operator, "03-withdrawals")
    await row.get_by_role("button", name=re.compile("Request settlement")).click()
    await expect(operator.get_by_role("status")).to_contain_text("another approver must decide")
    request_row = operator.locator(f"tr[data-withdrawal='{withdrawal['id']}']")
    await expect(request_row).to_contain_text("You asked for this; another approver decides.")
    approval_id = await request_row.get_attribute("data-approval")
    assert approval_id

    # The console does not offer the asker a decision, and payout refuses one forced through anyway.
    forced = await operator.request.post(
        f"/payouts/approvals/{approval_id}/approve", form={"csrf_token": await _csrf_token(operator)}
    )
    assert "Payout refused the approval" in await forced.text()
    assert await _withdrawal_status(running_platform, withdrawal["id"]) == "pending_approval"

    approver = await signed_in(browser, console_url, running_platform.approver_api_key)
    await expect(approver.get_by_test_id("principal")).to_have_text("dev-approver")
    await approver.goto("/payouts/approvals")
    pending = approver.locator(f"tr[data-approval='{approval_id}']")
    await expect(pending).to_contain_text("dev-admin")
    await scan_and_capture(approver, "04-approvals")
    await pending.get_by_role("button", name=re.compile("^Approve")).click()
    await expect(approver.get_by_role("status")).to_contain_text(f"Approved {approval_id}")
    await approver.goto("/payouts/approvals?status=approved")
    await expect(approver.locator(f"tr[data-approval='{approval_id}']")).to_contain_text("dev-approver")
    assert await _withdrawal_status(running_platform, withdrawal["id"]) != "pending_approval"
    await operator.context.close()
    await approver.context.close()


async def test_an_operator_matches_an_unreconciled_line_with_a_note(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    seeded = await unreconciled_line(running_platform)
    assert running_platform.approver_api_key
    page = await signed_in(browser, console_url, running_platform.approver_api_key)  # operator, not admin
    await page.goto(f"/reconciliation/unreconciled?link_id={seeded['link_id']}")
    await expect(page.get_by_label("Link")).to_have_value(seeded["link_id"])  # the filter survives reload
    await expect(page.locator(f"tr[data-line='{seeded['line_id']}']")).to_contain_text("KES 750.50")
    await scan_and_capture(page, "05-unreconciled")

    await page.get_by_role("link", name=seeded["external_id"]).click()
    await expect(page.get_by_test_id("line-status")).to_have_text("unreconciled")
    await expect(page.get_by_role("row", name=re.compile(seeded["expectation_id"]))).to_contain_text("same amount")
    await scan_and_capture(page, "06-line")
    await page.get_by_label(seeded["expectation_id"]).check()
    await page.get_by_label("Note (kept in the audit trail)").fill("Paid without the invoice number; amount agrees")
    await page.get_by_role("button", name="Match", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Matched")
    await expect(page.get_by_test_id("line-status")).to_have_text("reconciled")

    await page.get_by_role("link", name=re.compile(r"^mat")).first.click()
    await expect(page.get_by_text("Paid without the invoice number; amount agrees")).to_be_visible()
    await scan_and_capture(page, "07-match")
    await page.goto(f"/reconciliation/unreconciled?link_id={seeded['link_id']}")
    await expect(page.get_by_text("Nothing unreconciled on this link.")).to_be_visible()
    await page.goto("/reconciliation/breaks?open=false")
    await expect(page.get_by_role("heading", name="Breaks")).to_be_visible()
    await scan_and_capture(page, "08-breaks")
    await page.context.close()


async def test_a_read_only_principal_is_not_offered_an_action_and_is_refused_it(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    withdrawal = await pending_withdrawal(running_platform, amount_minor=5_000)
    async with httpx.AsyncClient(
        base_url=running_platform.url("payout"), headers={"X-API-Key": running_platform.api_key}
    ) as payout:
        asked = await payout.post(f"{ADMIN_PAYMENTS}/withdrawals/{withdrawal['id']}/settlement-requests")
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["id"]
    assert running_platform.viewer_api_key
    viewer = await signed_in(browser, console_url, running_platform.viewer_api_key)
    await expect(viewer.get_by_test_id("principal")).to_have_text("dev-viewer")
    await expect(viewer.get_by_test_id("roles")).to_have_text("read_only")

    await viewer.goto("/payouts/approvals")
    row = viewer.locator(f"tr[data-approval='{approval_id}']")
    await expect(row).to_contain_text("Needs an approver")
    await expect(row.get_by_role("button")).to_have_count(0)
    await scan_and_capture(viewer, "09-approvals-read-only")

    forced = await viewer.request.post(
        f"/payouts/approvals/{approval_id}/approve", form={"csrf_token": await _csrf_token(viewer)}
    )
    assert "Payout refused the approval" in await forced.text()
    assert "approver" in await forced.text()  # the service's reason: the role it needs
    assert await _withdrawal_status(running_platform, withdrawal["id"]) == "pending_approval"

    # A form without the session's CSRF token is refused before any service is called.
    no_token = await viewer.request.post(f"/payouts/approvals/{approval_id}/approve", form={"csrf_token": "forged"})
    assert no_token.status == 403
    await viewer.context.close()


async def test_ledger_funding_and_card_pages_show_the_platforms_data(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    withdrawal = await pending_withdrawal(running_platform, amount_minor=7_700)
    reference = withdrawal["credit_reference"]
    account = await card_account_with_decisions(running_platform)
    page = await signed_in(browser, console_url, running_platform.api_key)

    await page.goto("/ledger/ledgers")
    await expect(page.get_by_role("heading", name="Ledgers")).to_be_visible()
    await scan_and_capture(page, "10-ledgers")
    await page.get_by_label("Transaction reference").fill(reference)
    await page.get_by_role("button", name="Find").click()
    await expect(page.get_by_role("heading", name=f"Transaction {reference}")).to_be_visible()
    await expect(page.get_by_text("KES 1,000.00").first).to_be_visible()
    await scan_and_capture(page, "11-transaction")
    await page.goto("/ledger/balances?currency=KES")
    await expect(page.get_by_label("Currency")).to_have_value("KES")
    await expect(page.get_by_role("columnheader", name="Available")).to_be_visible()
    await scan_and_capture(page, "12-balances")
    await page.get_by_role("link", name=withdrawal["balance_id"]).click()
    chart = page.get_by_role("img", name=re.compile("over time"))
    await expect(chart).to_be_visible()
    assert "readings from KES 0.00 to KES 1,000.00" in (await chart.locator("desc").text_content() or "")
    await page.get_by_text("The readings as a table").click()
    await expect(page.get_by_test_id("balance-readings").locator("tbody tr").last).to_contain_text("KES 1,000.00")
    await scan_and_capture(page, "12b-balance-over-time")

    await page.goto("/funding/payables")
    await expect(page.get_by_role("heading", name="Payables")).to_be_visible()
    await scan_and_capture(page, "13-payables")
    await page.goto("/funding/fundings?status=funded")
    await expect(page.get_by_label("Status")).to_have_value("funded")
    await scan_and_capture(page, "14-fundings")

    await page.goto("/cards/accounts")
    await page.get_by_role("link", name=account["id"]).click()
    await expect(page.get_by_text("USD 5,000.00").first).to_be_visible()  # the credit limit
    await expect(page.get_by_role("row", name=re.compile("Big Screens"))).to_contain_text("declined")
    await expect(page.get_by_role("row", name=re.compile("Corner Coffee"))).to_contain_text("approved")
    await scan_and_capture(page, "15-card-account")

    # By now the earlier tests left work waiting: the overview counts it, each count a link.
    await page.goto("/")
    waiting = page.get_by_role("link", name=re.compile("Withdrawals awaiting approval"))
    await expect(waiting).not_to_contain_text(re.compile(r"^\s*0\b"))
    await scan_and_capture(page, "16-overview-with-work")
    await waiting.click()
    await expect(page.get_by_label("Status")).to_have_value("pending_approval")
    await page.context.close()


async def test_an_operator_resolves_a_break_and_unmatches_the_refused_match_behind_it(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    assert running_platform.viewer_api_key and running_platform.approver_api_key
    seeded, viewer, page = await asyncio.gather(
        refused_payment_out(running_platform),
        signed_in(browser, console_url, running_platform.viewer_api_key),
        signed_in(browser, console_url, running_platform.approver_api_key),  # operator, not admin
    )
    await viewer.goto(f"/reconciliation/breaks/{seeded['break_id']}")
    await expect(viewer.get_by_test_id("break-resolved")).to_have_text("not yet")
    await expect(viewer.get_by_role("button", name="Resolve")).to_have_count(0)
    forced = await viewer.request.post(
        f"/reconciliation/breaks/{seeded['break_id']}/resolution",
        form={"csrf_token": await _csrf_token(viewer), "note": "forged"},
    )
    assert "Reconciliation refused the resolution" in await forced.text()
    await viewer.context.close()

    await page.goto("/reconciliation/breaks?kind=posting_failed")
    await expect(page.get_by_label("Kind")).to_have_value("posting_failed")
    await page.get_by_role("link", name=seeded["break_id"]).click()
    await expect(page.get_by_role("heading", name=f"Break {seeded['break_id']}")).to_be_visible()
    await scan_and_capture(page, "24-break")
    # The break names the match the ledger refused: undo it first, so the line can be matched again.
    await page.get_by_role("link", name=seeded["match_id"]).click()
    await expect(page.get_by_test_id("match-status")).to_have_text("failed")
    await page.get_by_label("Why (kept in the audit trail)").fill("Customer had no funds; the bank reversed it")
    await page.get_by_role("button", name="Unmatch").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Unmatched {seeded['match_id']}")
    await expect(page.get_by_test_id("match-status")).to_have_text("unmatched")
    await expect(page.get_by_role("button", name="Unmatch")).to_have_count(0)
    await scan_and_capture(page, "25-unmatched")

    await page.goto(f"/reconciliation/breaks/{seeded['break_id']}")
    await page.get_by_label("What was done (kept with the break)").fill("Match undone; the bank reversed the payment")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Break {seeded['break_id']} resolved")
    await expect(page.get_by_test_id("break-resolved")).to_contain_text("dev-approver")
    await expect(page.get_by_test_id("break-resolved")).to_contain_text("Match undone")
    await page.context.close()
