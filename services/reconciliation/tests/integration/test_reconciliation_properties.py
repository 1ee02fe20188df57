"""Property: over random interleavings of expectations and external transactions (statement lines
delivered in any order, some twice, some payments reversed by the bank), nothing is reconciled
twice, no settlement is reversed twice, and the cash account's ledger balance equals the sum of its
reconciled external transactions (money in positive).

Real PostgreSQL, the in-process ledger; Hypothesis runs in a thread and drives the test's loop.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clearway.devstack.testing import LoopBridge

from .conftest import RunningFlow
from .flows import balance, csv_statement, expect, import_csv, new_link

pytestmark = pytest.mark.integration
T = TypeVar("T")
CALL_TIMEOUT_S = 120

# Each payment: (direction, amount, has an expectation, has a reference, the bank reverses it).
payments = st.lists(
    st.tuples(
        st.sampled_from(["inbound", "outbound"]),
        st.integers(1, 50).map(lambda n: n * 100),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


def steps_of(plan: list[tuple[Any, ...]]) -> list[tuple[str, int]]:
    """Every payment's statement line twice (a duplicate delivery), its expectation when it has one,
    and its reversal line (twice) when the bank reverses it."""
    steps = []
    for index, (_direction, _amount, expected, _referenced, reversed_) in enumerate(plan):
        steps += [("line", index), ("line", index)] + ([("expect", index)] if expected else [])
        steps += [("reversal", index), ("reversal", index)] if reversed_ else []
    return steps


async def _run(
    client: httpx.AsyncClient, ledger: httpx.AsyncClient, plan: list[tuple[Any, ...]], order: list[tuple[str, int]]
) -> None:
    link = await new_link(client, ledger, auto_match=True)
    funding = sum(amount for direction, amount, *_ in plan if direction == "outbound")
    # The user can afford every outbound payment: an expected inbound top-up first.
    await expect(
        client,
        link["id"],
        direction="inbound",
        amount_minor=funding + 100,
        reference="SEED",
        account_path="liabilities/user_balances:prop",
    )
    await import_csv(client, link["id"], csv_statement(("inbound", funding + 100, "SEED", "seed")))
    for kind, index in order:
        direction, amount, _expected, referenced, _reversed = plan[index]
        reference = f"P{index}" if referenced else None
        if kind == "line":
            await import_csv(client, link["id"], csv_statement((direction, amount, reference, f"line-{index}")))
        elif kind == "reversal":
            back = "outbound" if direction == "inbound" else "inbound"
            line = (back, amount, f"reversal:{reference}" if reference else None, f"reversal-{index}")
            await import_csv(client, link["id"], csv_statement(line))
        else:
            await expect(
                client,
                link["id"],
                direction=direction,
                amount_minor=amount,
                reference=reference,
                account_path="liabilities/user_balances:prop",
                expected_on="2026-11-29",
            )
    await client.post("/matching/runs", json={"link_id": link["id"]})
    transactions = (await client.get("/external-transactions", params={"link_id": link["id"], "limit": 100})).json()[
        "data"
    ]
    reversals = sum(1 for *_, reversed_ in plan if reversed_)
    assert len(transactions) == len(plan) + reversals + 1, "a line delivered twice is one transaction"
    reconciled = [item for item in transactions if item["status"] == "reconciled"]
    assert len({item["match_id"] for item in reconciled}) >= 1
    matches = (await client.get("/matches", params={"link_id": link["id"], "limit": 100})).json()["data"]
    posted_ids = [tid for match in matches if match["status"] == "posted" for tid in match["external_transaction_ids"]]
    assert len(posted_ids) == len(set(posted_ids)), "a transaction reconciled twice"
    assert set(posted_ids) == {item["id"] for item in reconciled}
    reversed_matches = [m["reverses_match_id"] for m in matches if m["status"] == "posted" and m["reverses_match_id"]]
    assert len(reversed_matches) == len(set(reversed_matches)), "a settlement reversed twice"
    signed = sum(
        item["amount_minor"] if item["direction"] == "inbound" else -item["amount_minor"] for item in reconciled
    )
    assert await balance(ledger, link["ledger_id"], "assets/operating") == signed


async def test_random_interleavings_reconcile_once_and_the_cash_account_equals_what_was_reconciled(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        bridge = LoopBridge(asyncio.get_running_loop(), timeout_s=CALL_TIMEOUT_S)

        @settings(
            max_examples=10,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def property_holds(data: st.DataObject) -> None:
            plan = data.draw(payments, label="plan")
            order = data.draw(st.permutations(steps_of(plan)), label="order")
            bridge.run(_run(client, ledger, plan, order))

        await asyncio.to_thread(property_holds)
