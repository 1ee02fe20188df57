"""Links (FRAGMENT's term): a source of external transactions tied to one linked cash account of a
ledger. A bank statement, a mobile-money paybill, a card network or a processor account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

LINK_ID_PREFIX = "lnk"
DEFAULT_CLEARING_MAX_AGE_S = 3 * 24 * 3600
DEFAULT_DATE_WINDOW_DAYS = 3
RECONCILIATION_SCHEMA_KEY = "reconciliation"


class LinkKind(StrEnum):
    BANK_STATEMENT = "bank_statement"
    MOBILE_MONEY = "mobile_money"
    CARD_NETWORK = "card_network"
    PROCESSOR = "processor"


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    name: str
    kind: LinkKind
    ledger_id: str
    cash_account_path: str
    currency: str
    external_account_id: str | None
    auto_match: bool
    clearing_max_age_s: int
    date_window_days: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    # A single-purpose route (a virtual account, a paybill number): inbound money on this link that
    # no expectation explains belongs to this account (`liabilities/user_balances:<user>`).
    route_account_path: str | None = None
