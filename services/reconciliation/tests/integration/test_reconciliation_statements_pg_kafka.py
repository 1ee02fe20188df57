"""Statement import in each format (camt.053, MT940, CSV), re-imports that add nothing, and a
deliberately broken balance: the bank's closing balance against a cash account that only holds
what was reconciled (the opening balance never reached the ledger) is a `balance_mismatch` break."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .conftest import RunningFlow
from .flows import expect, new_link, unreconciled

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[4] / "libs" / "providers" / "tests" / "fixtures" / "statements"


async def _import(client: httpx.AsyncClient, link_id: str, name: str, fmt: str) -> dict[str, object]:
    response = await client.post(
        f"/links/{link_id}/statements", params={"format": fmt}, content=(FIXTURES / name).read_bytes()
    )
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.parametrize(
    ("name", "fmt", "currency", "closing_minor"),
    [
        ("camt053_001_02.xml", "camt053", "EUR", 1_120_200),
        ("camt053_001_08.xml", "camt053", "GBP", 432_880),
        ("mt940.sta", "mt940", "EUR", 1_344_700),
        ("statement.csv", "csv", "EUR", None),
    ],
)
async def test_each_format_imports_every_line_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, name: str, fmt: str, currency: str, closing_minor: int | None
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger, currency=currency, auto_match=False)
        first = await _import(client, link["id"], name, fmt)
        assert (first["imported"], first["skipped_duplicates"], first["closing_balance_minor"]) == (5, 0, closing_minor)
        again = await _import(client, link["id"], name, fmt)
        assert (again["imported"], again["skipped_duplicates"]) == (0, 5)
        assert len(await unreconciled(client, link["id"])) == 5


async def test_a_malformed_statement_is_refused_and_changes_nothing(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger, currency="EUR")
        refused = await client.post(
            f"/links/{link['id']}/statements", params={"format": "camt053"}, content=b"<Document>"
        )
        assert refused.status_code == 422 and refused.json()["code"] == "STATEMENT_INVALID"
        assert await unreconciled(client, link["id"]) == []


async def test_a_closing_balance_the_ledger_does_not_show_is_a_balance_mismatch_break(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger, currency="EUR")
        # Every line of the statement is expected, so all of it reconciles: the money in first...
        treasury = "liabilities/user_balances:treasury"
        for amount, reference in ((150_000, "wd_01HX4K2M9Q"), (7_500, "RF18539007547034")):
            await expect(
                client,
                link["id"],
                direction="inbound",
                amount_minor=amount,
                reference=reference,
                currency="EUR",
                account_path=treasury,
            )
        await _import(client, link["id"], "camt053_001_02.xml", "camt053")
        # ...then the payments out, which the money in now covers (their initiation needs it).
        for amount, reference in ((25_000, "po_01HX5A7B2C"), (12_050, "po_01HX5B9D4E"), (250, None)):
            await expect(
                client,
                link["id"],
                direction="outbound",
                amount_minor=amount,
                reference=reference,
                currency="EUR",
                account_path=treasury,
                expected_on="2026-03-02",
            )
        assert await unreconciled(client, link["id"]) == []
        # The opening balance (10,000.00 EUR) never reached the ledger: the bank says more than the books.
        run = (await client.post("/checks/runs")).json()
        breaks = (await client.get("/breaks", params={"kind": "balance_mismatch"})).json()["data"]
        mine = [found for found in breaks if found["link_id"] == link["id"]]
        assert run["breaks_found"] >= 1 and len(mine) == 1
        assert mine[0]["detail"]["bank_closing_minor"] == 1_120_200
        assert mine[0]["detail"]["ledger_minor"] == 150_000 + 7_500 - 25_000 - 12_050 - 250
        resolved = await client.post(f"/breaks/{mine[0]['id']}/resolution", json={"note": "opening balance booked"})
        assert resolved.status_code == 200 and resolved.json()["resolved_by"] == "dev-admin"
