"""`LedgerBackedGraphQLData` over a fake ledger client: ledgers by ik, every page of accounts
(the account id is the cursor), the type filter the ledger lacks, and the bound on a listing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from clearway.platform.ledger import LedgerAccount, LedgerAnswerInvalidError, LedgerRef
from clearway.reconciliation.service import graphql_data
from clearway.reconciliation.service.graphql_data import LedgerBackedGraphQLData, TooManyAccountsError, UnreconciledTx


def account(number: int, account_type: str = "liability") -> LedgerAccount:
    return LedgerAccount(
        path=f"liabilities/pending_withdrawals:p{number}",
        type=account_type,
        currency="KES",
        own_balance_minor=number,
        clearing_status="pending",
        linked=False,
        clearing=True,
        template=True,
        account_id=f"bln_{number:04d}",
        ledger_id="ldg_1",
    )


@dataclass
class FakeLedger:
    accounts: list[LedgerAccount]
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def find_ledger_by_ik(self, ik: str) -> LedgerRef | None:
        return LedgerRef("ldg_1", "Payments", ik) if ik == "ledger_123" else None

    async def list_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None = None,
        path: str | None = None,
        currency: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> tuple[list[LedgerAccount], bool]:
        self.calls.append(
            {
                "ledger_id": ledger_id,
                "clearing_status": clearing_status,
                "path": path,
                "currency": currency,
                "limit": limit,
                "starting_after": starting_after,
            }
        )
        rest = [item for item in self.accounts if starting_after is None or str(item.account_id) > starting_after]
        return rest[:limit], len(rest) > limit


async def no_transactions(ledger_id: str, account_path: str) -> list[UnreconciledTx]:
    return []


async def test_ledgers_are_found_by_ik() -> None:
    data = LedgerBackedGraphQLData(FakeLedger([]), no_transactions)
    assert await data.ledger_id_for_ik("ledger_123") == "ldg_1"
    assert await data.ledger_id_for_ik("ledger_404") is None


async def test_every_page_is_read_with_the_account_id_cursor() -> None:
    ledger = FakeLedger([account(number) for number in range(1, 251)])
    data = LedgerBackedGraphQLData(ledger, no_transactions)
    found = await data.ledger_accounts(
        "ldg_1", clearing_status="pending", path="liabilities/pending_withdrawals:*", currency="KES", account_type=None
    )
    assert [item.own_balance_minor for item in found] == list(range(1, 251))
    assert [call["starting_after"] for call in ledger.calls] == [None, "bln_0100", "bln_0200"]
    assert all(
        (call["clearing_status"], call["path"], call["currency"], call["limit"])
        == ("pending", "liabilities/pending_withdrawals:*", "KES", 100)
        for call in ledger.calls
    )


async def test_the_type_filter_is_applied_here() -> None:
    ledger = FakeLedger([account(1, "asset"), account(2), account(3, "asset")])
    data = LedgerBackedGraphQLData(ledger, no_transactions)
    found = await data.ledger_accounts("ldg_1", clearing_status=None, path=None, currency=None, account_type="asset")
    assert [item.own_balance_minor for item in found] == [1, 3]


async def test_a_listing_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphql_data, "ACCOUNTS_MAX", 200)
    data = LedgerBackedGraphQLData(FakeLedger([account(number) for number in range(1, 202)]), no_transactions)
    with pytest.raises(TooManyAccountsError, match="more than 200 accounts match"):
        await data.ledger_accounts("ldg_1", clearing_status=None, path=None, currency=None, account_type=None)


async def test_a_page_without_ids_cannot_be_followed() -> None:
    anonymous = [LedgerAccount("liabilities/x", "liability", "KES", 1, None, False, False, False) for _ in range(101)]
    data = LedgerBackedGraphQLData(FakeLedger(anonymous), no_transactions)
    with pytest.raises(LedgerAnswerInvalidError):
        await data.ledger_accounts("ldg_1", clearing_status=None, path=None, currency=None, account_type=None)


async def test_unreconciled_transactions_come_from_the_supplied_function() -> None:
    asked: list[tuple[str, str]] = []

    async def unreconciled(ledger_id: str, account_path: str) -> list[UnreconciledTx]:
        asked.append((ledger_id, account_path))
        return [UnreconciledTx(id="etx_1", description="Top-up", amount_minor=1_500, external_id="QK1")]

    data = LedgerBackedGraphQLData(FakeLedger([]), unreconciled)
    assert [tx.id for tx in await data.unreconciled_transactions("ldg_1", "assets/operating")] == ["etx_1"]
    assert asked == [("ldg_1", "assets/operating")]
