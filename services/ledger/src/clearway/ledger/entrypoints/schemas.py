"""Request bodies of the Blnk-compatible API. Unknown fields are ignored, as Blnk does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clearway.platform.json_documents import JsonDocument, bounded_document


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LedgerCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    meta_data: JsonDocument = Field(default_factory=dict)
    # FRAGMENT's ledger ik: unique per ledger service; a create with a known ik answers that ledger.
    ik: str | None = Field(default=None, min_length=1, max_length=255)


class IdentityCreate(_Body):
    model_config = ConfigDict(extra="allow")
    identity_type: str | None = None
    meta_data: JsonDocument = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounded_extra_fields(self) -> IdentityCreate:
        """Blnk's identity fields (names, address, ...) are kept as they come, in a JSON document: the
        same bounds as `meta_data` (a 65-bit integer there was a 500; found by `make fuzz`)."""
        bounded_document(dict(self.model_extra or {}))
        return self


class BalanceCreate(_Body):
    ledger_id: str | None = None
    identity_id: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    indicator: str | None = Field(default=None, max_length=200)
    meta_data: JsonDocument = Field(default_factory=dict)


class DistributionBody(_Body):
    identifier: str
    distribution: str


class TransactionCreate(_Body):
    amount: float | int | None = None
    precise_amount: int | None = None
    precision: int | None = Field(default=None, gt=0)
    currency: str = Field(min_length=3, max_length=3)
    reference: str = Field(min_length=1, max_length=255)
    source: str | None = None
    destination: str | None = None
    sources: list[DistributionBody] | None = Field(default=None, max_length=100)
    destinations: list[DistributionBody] | None = Field(default=None, max_length=100)
    allow_overdraft: bool = False
    overdraft_limit: float | int | None = None
    inflight: bool = False
    inflight_expiry_date: datetime | None = None
    scheduled_for: datetime | None = None
    effective_date: datetime | None = None
    description: str | None = Field(default=None, max_length=1000)
    meta_data: JsonDocument = Field(default_factory=dict)

    def transfer_fields(self) -> dict[str, Any]:
        fields = self.model_dump(exclude={"sources", "destinations"})
        fields["sources"] = [item.model_dump() for item in self.sources] if self.sources else None
        fields["destinations"] = [item.model_dump() for item in self.destinations] if self.destinations else None
        return fields


class InflightUpdate(_Body):
    status: Literal["commit", "void"]
    amount: float | int | None = None
    precise_amount: int | None = None
    reference: str | None = Field(default=None, max_length=255)


class BulkTransactions(_Body):
    transactions: list[TransactionCreate] = Field(min_length=1, max_length=10_000)
    atomic: bool = False
    inflight: bool = False
    run_async: bool = False
    # Clearway's extension, atomic bulks only: answer with the balances the transactions moved, as the
    # bulk left them (or as they stand, when it was refused), so a caller deciding on the balance a
    # posting leaves (a card authorization's available credit) needs no second round trip.
    include_balances: bool = False


# Search input is bound into SQL: PostgreSQL text cannot hold NUL, and the offset
# (page - 1) * per_page must stay a bigint, so both are refused at the edge (found by `make fuzz`).
SEARCH_TEXT_LENGTH_MAX = 1_000
SEARCH_PAGE_MAX = 10_000
SearchText = Annotated[str, Field(max_length=SEARCH_TEXT_LENGTH_MAX, pattern=r"^[^\x00]*$")]


class SearchBody(_Body):
    q: SearchText = "*"
    query_by: SearchText | None = None
    filter_by: SearchText | None = None
    sort_by: SearchText | None = None
    page: int = Field(default=1, ge=1, le=SEARCH_PAGE_MAX)
    per_page: int = Field(default=20, ge=1, le=250)


class MonitorCondition(_Body):
    field: str
    operator: str
    value: float | int
    precision: int | None = None


class MonitorCreate(_Body):
    balance_id: str
    condition: MonitorCondition
    description: str = ""
    call_back_url: str | None = None
