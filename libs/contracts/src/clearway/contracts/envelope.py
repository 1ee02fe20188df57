"""The CloudEvents envelope's older import path; the codec itself lives in `clearway.contracts.cloudevents`.

Kept so existing imports (`from clearway.contracts.envelope import EventAttributes`, the AsyncAPI
builder's constants) keep working; new code imports `clearway.contracts.cloudevents`.
"""

from __future__ import annotations

from clearway.contracts.cloudevents import (
    CONTENT_TYPE_HEADER,
    DEFAULT_CONTENT_TYPE,
    HEADER_PREFIX,
    SPEC_VERSION,
    CloudEventHeaderError,
    EventAttributes,
    HeadersInput,
    HeaderValue,
    MissingAttributeError,
    format_time,
)

__all__ = [
    "CONTENT_TYPE_HEADER",
    "DEFAULT_CONTENT_TYPE",
    "HEADER_PREFIX",
    "SPEC_VERSION",
    "CloudEventHeaderError",
    "EventAttributes",
    "HeaderValue",
    "HeadersInput",
    "MissingAttributeError",
    "format_time",
]
