"""JSON-lines logging for every service, with correlation ids and secret redaction.

structlog renders both its own loggers and the standard library's (uvicorn, SQLAlchemy,
aiokafka), so one line shape reaches the log pipeline whatever emitted it. Each
line carries `correlation_id`/`causation_id` from `clearway.platform.context`, so one id finds
a whole flow across services.
"""

from __future__ import annotations

import logging
import logging.config
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from clearway.platform.context import causation_id_var, correlation_id_var

REDACTED = "[REDACTED]"
# Field names that may hold credentials; matched anywhere in the name (`api_key`, `X-API-Key`).
SENSITIVE_FIELD = re.compile(r"key|secret|password|token|authorization|cookie", re.IGNORECASE)
REDACTION_DEPTH_MAX = 6
# Structural fields that happen to match SENSITIVE_FIELD but never carry secrets.
_NEVER_REDACTED = frozenset({"event", "level", "logger", "timestamp"})


def _redact_value(value: Any, depth: int) -> Any:
    if depth >= REDACTION_DEPTH_MAX:
        return value
    if isinstance(value, Mapping):
        return {
            name: (
                REDACTED if isinstance(name, str) and SENSITIVE_FIELD.search(name) else _redact_value(item, depth + 1)
            )
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(item, depth + 1) for item in value]
    return value


def redact_sensitive_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for name in list(event_dict):
        if name in _NEVER_REDACTED:
            continue
        if SENSITIVE_FIELD.search(name):
            event_dict[name] = REDACTED
        else:
            event_dict[name] = _redact_value(event_dict[name], 0)
    return event_dict


def add_context_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("correlation_id", correlation_id_var.get())
    event_dict.setdefault("causation_id", causation_id_var.get())
    return event_dict


def _add_service(service_name: str) -> Processor:
    def processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service_name)
        return event_dict

    return processor


def _shared_processors(service_name: str) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service_name),
        add_context_ids,
    ]


def configure_logging(service_name: str, level: str | int = "INFO", json: bool = True) -> None:
    """Route structlog and stdlib logging to stdout as JSON lines (or readable text when `json=False`)."""
    shared = _shared_processors(service_name)
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_sensitive_fields,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # uvicorn installs its own handlers; send its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Our access log replaces uvicorn's (it has the route, status, duration and correlation id).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def redact_mapping(values: MutableMapping[str, Any]) -> dict[str, Any]:
    """Redaction for callers that build their own dicts (e.g. logging request headers)."""
    redacted = _redact_value(dict(values), 0)
    assert isinstance(redacted, dict)
    return redacted
