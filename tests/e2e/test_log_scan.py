"""The log scanner itself (no platform): it finds each kind of leak and passes what services write."""

from __future__ import annotations

from pathlib import Path

import pytest

from .log_scan import findings_in_line, scan_logs

API_KEY = "k3y-for-the-scanner-test-0123456789"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('{"event": "top-up started", "phone": "+254712345678"}', "phone number"),
        ("B2C request for 0712 345 678 accepted", "phone number"),
        ('{"PartyB": "254712345678"}', "phone number"),
        ('{"iban": "DE89370400440532013000"}', "IBAN"),
        ("paying GB82 WEST 1234 5698 7654 32 now", "IBAN"),
        ("card 4111111111111111 declined", "card number"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpZHRfMSJ9.c2lnbmF0dXJlLXZhbHVl", "bearer token (JWT)"),
        ("POST /api/v1/payments/top-ups/callbacks/daraja/s3cr3t-t0ken HTTP/1.1", "callback token in a path"),
        (f"X-API-Key: {API_KEY}", "API key"),
    ],
)
def test_each_kind_of_leak_is_found(line: str, kind: str) -> None:
    assert kind in {found for found, _ in findings_in_line(line, [API_KEY])}


@pytest.mark.parametrize(
    "line",
    [
        '{"timestamp": "2026-11-29T13:44:11.290638Z", "duration_ms": 58.537, "status": 200}',
        '{"phone_masked": "+254******678", "amount_minor": 150000, "withdrawal_id": "wdr_01m8krs0y7azqsg2715m6n85hn"}',
        '{"account_number_masked": "DE89********3000", "ledger_id": "ldg_01m8krs0y7azqsg2715m6n85hn"}',
        "POST /api/v1/payments/top-ups/callbacks/daraja/[REDACTED] 200",
        'route=/api/v1/payments/top-ups/callbacks/{provider}/{callback_token} "HTTP/1.1 200 OK"',
        "offset 1732881851290 committed for partition 3",
        '{"event": "owner lease held", "owner_id": 745029986}',
    ],
)
def test_what_services_write_is_not_a_finding(line: str) -> None:
    assert list(findings_in_line(line, [API_KEY])) == []


def test_scan_logs_reads_every_log(tmp_path: Path) -> None:
    (tmp_path / "payout.log").write_text("fine\nphone +254712345678\n", encoding="utf-8")
    (tmp_path / "ledger.log").write_text("fine\n", encoding="utf-8")
    scanned, found = scan_logs(tmp_path)
    assert scanned == 3
    assert [(f.log, f.line_number, f.kind) for f in found] == [("payout.log", 2, "phone number")]
