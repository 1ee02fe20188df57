"""The ledger as every service sees it: `Posting`s in, `LedgerBalance`s and `LedgerTransaction`s
out, and FRAGMENT-style `LedgerRef`s, `SchemaEntry`s and `LedgerAccount`s (`values`), over one
HTTP client (`http_client.HttpLedgerClient`).

The values are pure, so a domain layer may import them from here: the client (and httpx with it)
is imported only when `HttpLedgerClient` or `BULK_POSTINGS_MAX` is first asked for, by wiring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from clearway.platform.ledger.values import (
    APPLIED,
    CLEARING_CLEARED,
    CLEARING_PENDING,
    CLEARING_STATUSES,
    ENTRY_POSTED,
    ENTRY_REVERSED,
    ENTRY_STATUSES,
    INFLIGHT,
    REFUSED,
    REJECTED,
    SCHEDULED,
    TRANSACTION_STATUSES,
    VOID,
    WALLET_PREFIX,
    AtomicPosting,
    BulkFailure,
    LedgerAccount,
    LedgerAnswerInvalidError,
    LedgerBalance,
    LedgerHold,
    LedgerRef,
    LedgerRefusedError,
    LedgerTransaction,
    LedgerUnavailableError,
    Posting,
    SchemaEntry,
    wallet_indicator,
)

if TYPE_CHECKING:
    from clearway.platform.ledger.http_client import BULK_POSTINGS_MAX, HttpLedgerClient

_CLIENT_NAMES = frozenset({"BULK_POSTINGS_MAX", "HttpLedgerClient"})


def __getattr__(name: str) -> object:
    if name in _CLIENT_NAMES:
        return getattr(importlib.import_module("clearway.platform.ledger.http_client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APPLIED",
    "BULK_POSTINGS_MAX",
    "CLEARING_CLEARED",
    "CLEARING_PENDING",
    "CLEARING_STATUSES",
    "ENTRY_POSTED",
    "ENTRY_REVERSED",
    "ENTRY_STATUSES",
    "INFLIGHT",
    "REFUSED",
    "REJECTED",
    "SCHEDULED",
    "TRANSACTION_STATUSES",
    "VOID",
    "WALLET_PREFIX",
    "AtomicPosting",
    "BulkFailure",
    "HttpLedgerClient",
    "LedgerAccount",
    "LedgerAnswerInvalidError",
    "LedgerBalance",
    "LedgerHold",
    "LedgerRef",
    "LedgerRefusedError",
    "LedgerTransaction",
    "LedgerUnavailableError",
    "Posting",
    "SchemaEntry",
    "wallet_indicator",
]
