"""Secret tokens in callback URL paths, kept out of every log line.

Rails (M-Pesa, banks) call us back at `<prefix>/callbacks/<provider>/<token>/...` and prove who
they are with the token, which makes it a credential that the access log, error logs and httpx
(the sandboxes deliver through it) would otherwise write out. A service registers its callback
prefix once; every registered prefix is redacted by the same filter.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
# Loggers that write request paths or URLs.
REDACTED_LOGGERS = (
    "clearway.http.access",
    "clearway.http.error",
    "clearway.platform.errors",
    "uvicorn.access",
    "httpx",
)
_patterns: dict[str, re.Pattern[str]] = {}


def _pattern_for(route_prefix: str) -> re.Pattern[str]:
    return re.compile(rf"({re.escape(route_prefix)}/callbacks/[^/\s?]+/)[^/\s?\"']+")


def redact_callback_tokens(text: str) -> str:
    for pattern in _patterns.values():
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


class CallbackTokenRedactor(logging.Filter):
    """Replaces a callback token in any logged path or message by `[REDACTED]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        for attribute in ("path", "url", "instance"):
            value = getattr(record, attribute, None)
            if isinstance(value, str):
                setattr(record, attribute, redact_callback_tokens(value))
        if isinstance(record.msg, str):
            record.msg = redact_callback_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(arg) for arg in record.args)
        return True


def _redacted_arg(arg: object) -> object:
    """Strings and URL objects (httpx logs `httpx.URL`) are redacted; other values pass unchanged."""
    if isinstance(arg, str | bytes | int | float | bool) or arg is None:
        return redact_callback_tokens(arg) if isinstance(arg, str) else arg
    text = str(arg)
    redacted = redact_callback_tokens(text)
    return redacted if redacted != text else arg


def install_callback_log_redaction(route_prefix: str) -> None:
    """Redact tokens under `route_prefix` from now on. Idempotent: every app built may call it."""
    _patterns.setdefault(route_prefix, _pattern_for(route_prefix))
    for name in REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(existing, CallbackTokenRedactor) for existing in target.filters):
            target.addFilter(CallbackTokenRedactor())
