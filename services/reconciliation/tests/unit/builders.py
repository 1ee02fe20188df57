"""Domain objects the reconciliation unit tests build: an external transaction and an expectation
on link `lnk_1`, in KES, with reference `R1`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from clearway.reconciliation.domain.expectations import Expectation, ExpectationItem, NewExpectation, new_expectation
from clearway.reconciliation.domain.external_transactions import (
    ExternalTransaction,
    RecordExternalTransaction,
    new_external_transaction,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
Direction = Literal["inbound", "outbound"]


def external_transaction(direction: Direction, amount_minor: int, tid: str = "ext_1") -> ExternalTransaction:
    command = RecordExternalTransaction(
        processor="bank",
        transfer_id=tid,
        direction=direction,
        amount_minor=amount_minor,
        currency="KES",
        account_id="acct",
        reference="R1",
        booked_at=NOW,
    )
    return new_external_transaction(command, transaction_id=tid, link_id="lnk_1", now=NOW)


def expectation(
    direction: Direction, amount_minor: int, eid: str, *, items: tuple[ExpectationItem, ...] = (), user: str = "u1"
) -> Expectation:
    command = NewExpectation(
        link_id="lnk_1",
        direction=direction,
        amount_minor=amount_minor,
        currency="KES",
        reference="R1",
        source="api",
        account_path=f"liabilities/user_balances:{user}",
        items=items,
    )
    return new_expectation(command, expectation_id=eid, now=NOW)
