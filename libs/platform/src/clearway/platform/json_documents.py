"""Free-form JSON documents a client may attach (a ledger's `meta_data`): bounded so they store and
log like any other field. PostgreSQL's jsonb and our JSON encoder take 64-bit integers only, and an
unbounded document is a way to fill a table."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AfterValidator

DOCUMENT_BYTES_MAX = 16 * 1024
DEPTH_MAX = 16
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _check(node: Any, depth: int) -> None:
    if depth > DEPTH_MAX:
        raise ValueError(f"nested deeper than {DEPTH_MAX} levels")
    if isinstance(node, bool) or node is None:
        return
    if isinstance(node, int) and not _INT64_MIN <= node <= _INT64_MAX:
        raise ValueError("integers must fit in 64 bits")
    if isinstance(node, dict):
        for value in node.values():
            _check(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check(value, depth + 1)


def bounded_document(value: dict[str, Any]) -> dict[str, Any]:
    _check(value, 0)
    if len(orjson.dumps(value)) > DOCUMENT_BYTES_MAX:
        raise ValueError(f"at most {DOCUMENT_BYTES_MAX} bytes of JSON")
    return value


JsonDocument = Annotated[dict[str, Any], AfterValidator(bounded_document)]
