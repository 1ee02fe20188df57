"""The rail's callback token is a credential in the URL path: it never reaches a log line."""

from __future__ import annotations

import logging

from clearway.payout.entrypoints import http_callbacks
from clearway.platform.callback_redaction import CallbackTokenRedactor, install_callback_log_redaction

TOKEN = "s3cr3t-callback-token"


def test_result_and_timeout_paths_are_redacted_in_access_logs() -> None:
    install_callback_log_redaction(http_callbacks.ROUTE_PREFIX)
    for path in (http_callbacks.result_path("sandbox", TOKEN), http_callbacks.timeout_path("daraja", TOKEN)):
        record = logging.LogRecord("clearway.http.access", logging.INFO, __file__, 1, "POST %s", (path,), None)
        record.path = path
        assert CallbackTokenRedactor().filter(record)
        assert TOKEN not in record.getMessage() and TOKEN not in record.path
        assert "[REDACTED]" in record.path
