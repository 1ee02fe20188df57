"""Pages rendered in-process, with the services answered by a canned transport (rendering only:
the browser tests run against the real services)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from clearway.console.config import ConsoleSettings
from clearway.console.main import create_app

ADMIN_KEY = "admin-key-for-rendering-tests"
APPROVER_KEY = "approver-key-for-rendering-tests"
PENDING = {
    "id": "apr_1",
    "withdrawal_id": "wd_1",
    "status": "pending",
    "requested_by": "dev-admin",
    "requested_at": "2026-11-29T10:00:00Z",
    "decided_by": None,
    "decided_at": None,
    "reason": None,
    "withdrawal": {"user_id": "idt_1", "amount_minor": 123_456, "currency": "KES"},
}


PAYOUT_PORT = 5004  # ConsoleSettings' default payout URL
DEAD_LETTER = {
    "id": "dlq_01jdeadletter",
    "group_id": "payout.payables",
    "topic": "payable.paid",
    "partition": 0,
    "offset": 41,
    "message_key": "pay_1",
    "reason": "ValueError: cannot apply this",
    "attempts": 5,
    "event_id": "evt_1",
    "event_type": "payable.paid",
    "headers": {"ce_id": "evt_1", "ce_type": "payable.paid"},
    "payload_preview": '{"phone":"+254******678"}',
    "payload_bytes": 26,
    "dead_lettered_at": "2026-11-29T10:00:00Z",
}


def _dead_letters(request: httpx.Request) -> httpx.Response | None:
    """Payout has two dead letters on one topic, reconciliation refuses, the others have none."""
    if not request.url.path.startswith("/admin/dead-letters"):
        return None
    if request.url.port == 5005:
        return httpx.Response(403, json={"title": "Forbidden", "detail": "No.", "code": "FORBIDDEN"})
    payout = request.url.port == PAYOUT_PORT
    if request.url.path == "/admin/dead-letters/count":
        return httpx.Response(
            200, json={"total": 2, "by_topic": {"payable.paid": 2}} if payout else {"total": 0, "by_topic": {}}
        )
    if request.url.path == "/admin/dead-letters":
        if set(request.url.params) - {"topic", "limit", "starting_after"}:  # as the platform's PageParams
            return httpx.Response(400, json={"title": "Bad Request", "detail": "Unknown.", "code": "BAD_REQUEST"})
        first_page = "starting_after" not in request.url.params
        rows = [DEAD_LETTER] if payout else []
        return httpx.Response(200, json={"data": rows, "has_more": payout and first_page})
    if payout and request.url.path == f"/admin/dead-letters/{DEAD_LETTER['id']}":
        return httpx.Response(200, json=DEAD_LETTER)
    return httpx.Response(404, json={"title": "Not Found", "detail": "No dead letter.", "code": "NOT_FOUND"})


def _services(request: httpx.Request) -> httpx.Response:
    dead_letters = _dead_letters(request)
    if dead_letters is not None:
        return dead_letters
    if request.url.path.endswith("/health/ready"):
        return httpx.Response(200, json={"status": "ready"})
    if request.url.path == "/api/v1/admin/payments/approval-requests":
        return httpx.Response(200, json={"data": [PENDING], "has_more": False})
    if request.url.path == "/api/v1/admin/payments/approval-requests/apr_1/approvals":
        detail = "The second approver must be another principal."
        return httpx.Response(409, json={"title": "Conflict", "detail": detail, "code": "SAME_APPROVER"})
    return httpx.Response(200, json={"data": [], "has_more": False})


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = ConsoleSettings(dev_api_key=ADMIN_KEY, dev_approver_api_key=APPROVER_KEY, log_json=False)
    with TestClient(create_app(settings, transport=httpx.MockTransport(_services))) as test_client:
        yield test_client


def _sign_in(client: TestClient, key: str) -> str:
    form = client.get("/sign-in").text
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form)
    assert token
    answer = client.post("/sign-in", data={"api_key": key, "sign_in_token": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/payouts/approvals").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    return csrf.group(1)


def test_pages_need_a_session_and_the_cookie_is_httponly_and_strict(client: TestClient) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    _sign_in(client, ADMIN_KEY)
    cookie = next(c for c in client.cookies.jar if c.name == "clearway_console_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and ADMIN_KEY not in (cookie.value or "")
    page = client.get("/")
    assert "dev-admin" in page.text and ADMIN_KEY not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_an_unknown_key_and_a_stale_sign_in_form_are_refused(client: TestClient) -> None:
    client.get("/sign-in")
    stale = client.post("/sign-in", data={"api_key": ADMIN_KEY, "sign_in_token": "forged"})
    assert stale.status_code == 403
    token = re.search(r'name="sign_in_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token
    unknown = client.post("/sign-in", data={"api_key": "nope", "sign_in_token": token.group(1)})
    assert unknown.status_code == 401 and "not an operator API key" in unknown.text


def test_the_asker_is_not_offered_a_decision_but_another_approver_is(client: TestClient) -> None:
    _sign_in(client, ADMIN_KEY)
    page = client.get("/payouts/approvals").text
    assert "You asked for this; another approver decides." in page and "KES 1,234.56" in page
    assert "/payouts/approvals/apr_1/approve" not in page
    client.cookies.clear()
    _sign_in(client, APPROVER_KEY)
    page = client.get("/payouts/approvals").text
    assert "/payouts/approvals/apr_1/approve" in page and 'for="reason-apr_1"' in page


def test_a_post_without_the_session_csrf_token_is_refused_and_a_service_refusal_is_shown(client: TestClient) -> None:
    csrf = _sign_in(client, APPROVER_KEY)
    assert client.post("/payouts/approvals/apr_1/approve", data={"csrf_token": "forged"}).status_code == 403
    shown = client.post("/payouts/approvals/apr_1/approve", data={"csrf_token": csrf})
    assert "Payout refused the approval: The second approver must be another principal." in shown.text


def test_whoami_answers_the_callers_principal(client: TestClient) -> None:
    answer = client.get("/auth/whoami", headers={"X-API-Key": APPROVER_KEY})
    assert answer.status_code == 200
    assert json.loads(answer.text) == {
        "name": "dev-approver",
        "roles": ["approver", "operator"],
        "workspace_id": None,
        "user_id": None,
    }
    assert client.get("/auth/whoami").status_code == 401


def test_the_overview_counts_dead_letters_from_the_services_records_and_links_to_them(client: TestClient) -> None:
    _sign_in(client, ADMIN_KEY)
    page = client.get("/").text
    dead = re.search(r'data-testid="dlq-payout"><a href="/dead-letters\?service=payout">2</a>', page)
    assert dead, "payout's recorded count, linked to its list"
    assert re.search(r'data-testid="dlq-reconciliation">—', page), "a refusal is no number"
    assert re.search(r'data-testid="dlq-total">2<', page)
    assert re.search(
        r'<span class="count-value" data-testid="count-\d+">2</span>\s*<span class="count-label">Dead letters', page
    )


def test_the_dead_letters_page_lists_one_service_with_its_filters_in_the_url(client: TestClient) -> None:
    _sign_in(client, ADMIN_KEY)
    page = client.get("/dead-letters").text  # no service asked: the first with dead letters
    assert '<option value="payout" selected>' in page and '<option value="payable.paid" >' in page
    assert f'href="/dead-letters/payout/{DEAD_LETTER["id"]}"' in page
    assert "ValueError: cannot apply this" in page and 'datetime="2026-11-29T10:00:00Z"' in page
    assert f"/dead-letters?service=payout&amp;starting_after={DEAD_LETTER['id']}" in page
    by_topic = client.get("/dead-letters", params={"service": "payout", "topic": "payable.paid"}).text
    assert f"/dead-letters?service=payout&amp;topic=payable.paid&amp;starting_after={DEAD_LETTER['id']}" in by_topic
    assert "not allowed for your roles" in page  # reconciliation refused its count
    filtered = client.get("/dead-letters", params={"service": "ledger", "topic": "payable.paid"}).text
    assert "No dead letters in ledger on <code>payable.paid</code>." in filtered


def test_a_dead_letter_shows_its_reason_attempts_times_and_masked_preview(client: TestClient) -> None:
    _sign_in(client, ADMIN_KEY)
    page = client.get(f"/dead-letters/payout/{DEAD_LETTER['id']}").text
    assert 'data-testid="dead-letter-reason">ValueError: cannot apply this<' in page
    assert "+254******678" in page and 'title="2026-11-29 10:00:00 UTC"' in page
    assert client.get("/dead-letters/payout/dlq_nope").status_code == 404
    assert client.get(f"/dead-letters/nowhere/{DEAD_LETTER['id']}").status_code == 404
