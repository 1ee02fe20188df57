from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi import APIRouter

from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.http import create_http_app
from clearway.platform.logging import REDACTED, configure_logging, get_logger, redact_sensitive_fields
from clearway.platform.settings import ServiceSettings

router = APIRouter()


@router.get("/widgets/{widget_id}")
async def get_widget(widget_id: str) -> dict[str, str]:
    return {"id": widget_id}


async def test_metrics_count_requests_by_route_template() -> None:
    app = create_http_app(settings=ServiceSettings(), title="t", version="0", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for widget_id in ("w1", "w2", "w3"):
            assert (await client.get(f"/widgets/{widget_id}")).status_code == 200
        await client.get("/nowhere")
        scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert 'clearway_http_requests_total{method="GET",route="/widgets/{widget_id}",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "clearway_http_request_duration_seconds_bucket" in text
    assert "w2" not in text


def test_redaction_covers_nested_and_header_like_names() -> None:
    event = redact_sensitive_fields(
        None,
        "info",
        {
            "event": "calling provider",
            "api_key": "ck_1",
            "headers": {"Authorization": "Bearer x", "X-Request-Id": "r1"},
            "items": [{"client_secret": "s", "amount_minor": 5}],
            "password": "p",
            "refresh_token": "t",
        },
    )
    assert event == {
        "event": "calling provider",
        "api_key": REDACTED,
        "headers": {"Authorization": REDACTED, "X-Request-Id": "r1"},
        "items": [{"client_secret": REDACTED, "amount_minor": 5}],
        "password": REDACTED,
        "refresh_token": REDACTED,
    }


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_json_lines_carry_service_ids_and_no_secrets(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("payout", "INFO", json=True)
    correlation = correlation_id_var.set("corr-1")
    causation = causation_id_var.set("evt-1")
    try:
        get_logger("test").info("withdrawal requested", amount_minor=500, api_key="ck_live_1")
        logging.getLogger("stdlib.test").warning("provider %s slow", "mpesa", extra={"client_secret": "s3"})
    finally:
        correlation_id_var.reset(correlation)
        causation_id_var.reset(causation)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    structured, foreign = lines[-2], lines[-1]
    assert structured["event"] == "withdrawal requested"
    assert structured["level"] == "info"
    assert structured["service"] == "payout"
    assert (structured["correlation_id"], structured["causation_id"]) == ("corr-1", "evt-1")
    assert structured["amount_minor"] == 500
    assert structured["api_key"] == REDACTED
    assert "timestamp" in structured
    assert foreign["event"] == "provider mpesa slow"
    assert foreign["level"] == "warning"
    assert foreign["correlation_id"] == "corr-1"
    assert foreign["client_secret"] == REDACTED
