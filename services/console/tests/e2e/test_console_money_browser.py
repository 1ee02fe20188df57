"""The console's money pages in a real browser over the running platform: reconciliation's daily
report (and its CSV) and pending clearing accounts, payout batches with their pain.001 file, a
funding's timeline with a deposit linked by an operator, and a dead-lettered event from the overview
to its detail. Every page is scanned with axe and captured under bench-results/console/."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Download, expect

from clearway.devstack.stack import Platform

from .conftest import (
    POISON_PHONE,
    batched_bank_withdrawal,
    dead_lettered_record,
    funding_awaiting_a_deposit,
    pending_clearing_account,
    scan_and_capture,
    signed_in,
    unreconciled_line,
)

pytestmark = pytest.mark.e2e


async def _text_of(download: Download) -> str:
    return await asyncio.to_thread(Path(await download.path()).read_text)


async def test_the_daily_report_downloads_as_csv_and_clearing_accounts_reach_the_overview(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    seeded, clearing, page = await asyncio.gather(
        unreconciled_line(running_platform),
        pending_clearing_account(running_platform),  # money in today, and a payment out pending
        signed_in(browser, console_url, running_platform.api_key),
    )

    await page.goto(f"/reconciliation/report?link_id={seeded['link_id']}&day=2026-11-29")
    await expect(page.get_by_label("Link")).to_have_value(seeded["link_id"])
    report = page.get_by_test_id("daily-report")
    await expect(report.get_by_role("row", name=re.compile("^In"))).to_contain_text("KES 750.50")
    await expect(report.get_by_role("row", name=re.compile("Unreconciled"))).to_contain_text("1")
    await scan_and_capture(page, "17-daily-report")
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name=re.compile("Download CSV")).click()
    download = await downloading.value
    assert download.suggested_filename == f"{seeded['link_id']}-2026-11-29.csv"
    csv_text = await _text_of(download)
    assert csv_text.splitlines()[0].startswith("day,link_id,")
    assert ",75050," in csv_text.splitlines()[1]

    await page.get_by_role("link", name="Clearing", exact=True).click()
    await expect(page.get_by_role("heading", name="Pending clearing accounts")).to_be_visible()
    await page.get_by_label("Ledger", exact=True).select_option(clearing["ledger_id"])
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(f"ledger_id={clearing['ledger_id']}"))  # survives reload
    row = page.locator(f"tr[data-clearing='{clearing['path']}']")
    await expect(row).to_contain_text("pending")
    await expect(row).to_contain_text(re.compile(r"under a minute|\d+ min"))
    await scan_and_capture(page, "18-clearing-accounts")

    await page.goto("/")
    pending = page.get_by_role("link", name=re.compile("Pending clearing accounts"))
    await expect(pending).not_to_contain_text(re.compile(r"^\s*0\b"))
    money_today = page.get_by_test_id("money-today").get_by_role("row", name=re.compile("^KES"))
    await expect(money_today).not_to_contain_text("KES 0.00 KES")  # the top-up came in today
    # Counted by each service from its dead-letters table: a number (0 in a clean run), never "—".
    await expect(page.get_by_test_id("dlq-reconciliation")).to_have_text(re.compile(r"^\d+$"))
    await expect(page.get_by_test_id("dlq-total")).to_have_text(re.compile(r"^\d+$"))
    # Reconciliation's groups have polled the events this test caused: a lag is known (0 once read).
    await expect(page.get_by_test_id("lag-reconciliation")).to_have_text(re.compile(r"^\d+ records$"))
    await scan_and_capture(page, "23-overview-money")
    await pending.click()
    await expect(page.get_by_role("heading", name="Pending clearing accounts")).to_be_visible()
    await page.context.close()


async def test_an_operator_downloads_a_payout_batchs_pain001_and_a_viewer_is_not_offered_it(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    assert running_platform.viewer_api_key
    batch_id, page, viewer = await asyncio.gather(
        batched_bank_withdrawal(running_platform),
        signed_in(browser, console_url, running_platform.api_key),
        signed_in(browser, console_url, running_platform.viewer_api_key),
    )
    await page.goto("/payouts/batches")
    row = page.locator(f"tr[data-batch='{batch_id}']")
    await expect(row).to_contain_text("EUR")
    # The open EUR batch may hold other tests' withdrawals too: at least this one, in euros.
    await expect(row.get_by_test_id("batch-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    await expect(row.get_by_test_id("batch-total")).to_contain_text(re.compile(r"^EUR [\d,]+\.\d\d$"))
    await scan_and_capture(page, "19-payout-batches")
    await page.get_by_role("link", name=batch_id).click()
    await expect(page.get_by_text("EUR 300.00")).to_be_visible()
    await scan_and_capture(page, "20-payout-batch")
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download pain.001").click()
    download = await downloading.value
    assert download.suggested_filename == f"{batch_id}.pain001.xml"
    xml = await _text_of(download)
    assert "pain.001.001.03" in xml and "DE89370400440532013000" in xml
    await page.reload()
    await expect(page.get_by_test_id("batch-status")).to_have_text("submitted")  # issuing closed it
    await page.context.close()

    await viewer.goto(f"/payouts/batches/{batch_id}")
    await expect(viewer.get_by_test_id("batch-status")).to_be_visible()
    await expect(viewer.get_by_role("button", name="Download pain.001")).to_have_count(0)
    token = await viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    forced = await viewer.request.post(f"/payouts/batches/{batch_id}/pain001", form={"csrf_token": token or ""})
    assert "Payout refused the pain.001 file" in await forced.text()
    await viewer.context.close()


async def test_a_fundings_timeline_and_an_operator_links_its_deposit(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    assert running_platform.viewer_api_key
    seeded, viewer, page = await asyncio.gather(
        funding_awaiting_a_deposit(running_platform),
        signed_in(browser, console_url, running_platform.viewer_api_key),
        signed_in(browser, console_url, running_platform.api_key),
    )
    funding_id = seeded["funding"]["id"]
    await viewer.goto(f"/funding/fundings/{funding_id}")
    await expect(viewer.locator(f"tr[data-deposit] >> text={seeded['transfer_id']}")).to_be_visible()
    await expect(viewer.get_by_role("button", name=re.compile("^Link"))).to_have_count(0)
    await viewer.context.close()

    await page.goto("/funding/fundings?status=awaiting_funds")
    await page.get_by_role("link", name=funding_id).click()
    timeline = page.get_by_test_id("timeline")
    await expect(timeline).to_contain_text("Created")
    await expect(timeline).to_contain_text("issued")
    await scan_and_capture(page, "21-funding")
    await page.get_by_role("button", name=f"Link deposit {seeded['transfer_id']}").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Deposit {seeded['transfer_id']} linked")
    await expect(timeline).to_contain_text("linked")
    await scan_and_capture(page, "22-funding-linked")
    await page.context.close()


async def test_a_dead_lettered_event_is_counted_on_the_overview_and_read_in_its_list_and_detail(
    browser: Browser, console_url: str, running_platform: Platform
) -> None:
    dead_letter, page = await asyncio.gather(
        dead_lettered_record(running_platform), signed_in(browser, console_url, running_platform.api_key)
    )
    await page.goto("/")
    await expect(page.get_by_test_id("dlq-payout")).to_have_text(re.compile(r"^[1-9]\d*$"))
    await page.locator("a.count-card", has_text="Dead letters").click()  # the overview's count links to the list
    await expect(page.get_by_role("heading", name="Dead letters", exact=True)).to_be_visible()

    await page.get_by_label("Service").select_option("payout")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"service=payout"))  # the topics offered are payout's now
    await page.get_by_label("Topic").select_option("payable.paid")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"service=payout&topic=payable.paid"))  # survives reload
    await page.reload()
    row = page.locator(f"tr[data-dead-letter='{dead_letter['id']}']")
    await expect(row).to_contain_text("undecodable")
    await expect(page.get_by_test_id("dead-letters-payout")).to_have_text(re.compile(r"^[1-9]\d*$"))
    await scan_and_capture(page, "26-dead-letters")

    await row.get_by_role("link", name=dead_letter["id"]).click()
    await expect(page.get_by_test_id("dead-letter-reason")).to_contain_text("undecodable: value is not JSON")
    await expect(page.get_by_text("+254******678")).to_be_visible()
    await expect(page.get_by_text(POISON_PHONE)).to_have_count(0)
    # The time reads in the viewer's zone (Nairobi, UTC+3), with UTC on hover.
    moment = page.locator("time").first
    await expect(moment).to_have_attribute("title", re.compile(r"UTC$"))
    await expect(moment).not_to_contain_text("UTC")
    await scan_and_capture(page, "27-dead-letter")
    await page.context.close()
