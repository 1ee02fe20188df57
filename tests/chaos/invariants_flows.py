"""Exactly-once checks of the workload's workflows (cards, withdrawals, post-fundings, ledger Kafka
commands), and that no open hold belongs to a finished workflow; read from the services' databases.
"""

from __future__ import annotations

from collections import Counter

import httpx

from clearway.devstack.stack import Platform
from tests.chaos.databases import connected
from tests.chaos.invariants import Check, check, settled
from tests.chaos.workload import Workload
from tests.chaos.workload_withdrawals import CURRENCY as WITHDRAWAL_CURRENCY
from tests.chaos.workload_withdrawals import FUNDED_MINOR

# A workflow still under way at the end holds money; any other status has released its hold.
HOLDING_AUTHORIZATIONS = ("approved",)
DECIDING_AUTHORIZATIONS = ("pending", "reversing", "raising", "clearing", "expiring")
FINISHED_WITHDRAWALS = ("succeeded", "failed", "reversed", "rejected")


async def open_holds(platform: Platform) -> dict[str, int]:
    """Reference of every hold still open -> what it still holds."""
    async with connected(platform, "ledger") as db:
        rows = await db.fetch(
            "SELECT t.reference, h.amount_minor - h.committed_minor - h.voided_minor AS open"
            " FROM holds h JOIN transactions t USING (transaction_id)"
            " WHERE h.committed_minor + h.voided_minor < h.amount_minor"
        )
    return {row["reference"]: row["open"] for row in rows}


async def applied(platform: Platform, references: list[str]) -> Counter[str]:
    async with connected(platform, "ledger") as db:
        rows = await db.fetch(
            "SELECT reference, count(*) AS n FROM transactions"
            " WHERE reference = ANY($1) AND status IN ('APPLIED', 'INFLIGHT') GROUP BY reference",
            references,
        )
    return Counter({row["reference"]: row["n"] for row in rows})


def held_by(holds: dict[str, int], prefix: str) -> list[int]:
    return [amount for reference, amount in holds.items() if reference.startswith(prefix)]


async def card_authorizations_once(platform: Platform, workload: Workload, bound_s: float) -> Check:
    cards = workload.cards
    wanted = list(cards.requested)

    async def rows() -> list[dict[str, object]]:
        async with connected(platform, "authorization") as db:
            found = await db.fetch(
                "SELECT a.id, a.authorization_id, a.status, a.held_minor, a.fee_minor,"
                " (SELECT count(*) FROM outbox o WHERE o.topic = 'card.authorization.decided'"
                "  AND o.payload->>'authorization_id' = a.authorization_id) AS decisions"
                " FROM authorizations a WHERE a.authorization_id = ANY($1)",
                wanted,
            )
        return [dict(row) for row in found]

    async def undecided() -> str | None:
        found = await rows()
        waiting = len(wanted) - len(found) + sum(1 for r in found if r["status"] in DECIDING_AUTHORIZATIONS)
        return f"{waiting} of {len(wanted)} authorizations not decided" if waiting else None

    problem = await settled(undecided, bound_s)
    final, holds = await rows(), await open_holds(platform)
    fees = await applied(platform, [f"authorization:{r['id']}:fee" for r in final if r["fee_minor"]])
    wrong: list[str] = []
    for row in final:
        held = held_by(holds, f"authorization:{row['id']}:")
        want = [row["held_minor"]] if row["status"] in HOLDING_AUTHORIZATIONS else []
        if held != want or row["decisions"] != 1:
            wrong.append(f"{row['authorization_id']} {row['status']}: holds {held}, {row['decisions']} decisions")
        fee_reference = f"authorization:{row['id']}:fee"
        if row["fee_minor"] and fees[fee_reference] != 1:
            wrong.append(f"{row['authorization_id']}: fee posted {fees[fee_reference]}x")
        if row["id"] in cards.reversed and row["status"] != "reversed":
            wrong.append(f"{row['authorization_id']} reversal acknowledged, status {row['status']}")
    if wrong:
        problem = f"{len(wrong)} wrong: {wrong[:3]}"
    outcomes = Counter(str(r["status"]) for r in final)
    doors = Counter(cards.requested.values())
    detail = f"{doors['http']} by HTTP, {doors['kafka']} by Kafka: " + ", ".join(
        f"{n} {status}" for status, n in sorted(outcomes.items())
    )
    return check(
        "card authorizations: one decision each, its hold open only while approved",
        problem,
        detail,
        lost=len(wrong) + len(wanted) - len(final),
    )


async def withdrawals_once(platform: Platform, workload: Workload, bound_s: float) -> Check:
    asked = workload.withdrawals.asked

    async def rows() -> list[dict[str, object]]:
        async with connected(platform, "payout") as db:
            found = await db.fetch(
                "SELECT id, user_id, idempotency_key, status, amount_minor FROM withdrawals"
                " WHERE idempotency_key = ANY($1)",
                list(asked),
            )
        return [dict(row) for row in found]

    async def unfinished() -> str | None:
        waiting = [r["id"] for r in await rows() if r["status"] not in FINISHED_WITHDRAWALS]
        return f"{len(waiting)} withdrawals not finished: {waiting[:3]}" if waiting else None

    problem = await settled(unfinished, bound_s)
    final, holds = await rows(), await open_holds(platform)
    ids = [str(r["id"]) for r in final]
    postings = await applied(platform, [f"payout:{i}:{step}" for i in ids for step in ("hold", "settle")])
    per_key = Counter(str(r["idempotency_key"]) for r in final)
    wrong = [f"key {key}: {per_key[key]} withdrawals" for key in asked if per_key[key] != 1]
    paid: Counter[str] = Counter()
    for row in final:
        wd, ask = str(row["id"]), asked[str(row["idempotency_key"])]
        succeeded = row["status"] == "succeeded"
        paid[ask.user_id] += int(str(row["amount_minor"])) if succeeded else 0
        settle_once = postings[f"payout:{wd}:settle"] == int(succeeded)
        decided_right = (row["status"] == "rejected") != ask.approve
        if wd != ask.withdrawal_id or postings[f"payout:{wd}:hold"] != 1 or not settle_once or not decided_right:
            wrong.append(f"{wd} {row['status']}: postings {[postings[f'payout:{wd}:{s}'] for s in ('hold', 'settle')]}")
        if held_by(holds, f"payout:{wd}:"):
            wrong.append(f"{wd} {row['status']} still holds {held_by(holds, f'payout:{wd}:')}")
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger:
        for ask in asked.values():
            wallet = (
                await ledger.get(f"/balances/indicator/wallet:{ask.user_id}/currency/{WITHDRAWAL_CURRENCY}")
            ).json()
            if (wallet["balance"], wallet["inflight_debit_balance"]) != (FUNDED_MINOR - paid[ask.user_id], 0):
                wrong.append(
                    f"wallet of {ask.user_id}: {wallet['balance']}, inflight {wallet['inflight_debit_balance']}"
                )
    if wrong:
        problem = f"{len(wrong)} wrong: {wrong[:3]}"
    outcomes = Counter(str(r["status"]) for r in final)
    detail = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none"
    return check(
        "withdrawals: one per Idempotency-Key, paid once or released, wallets agree", problem, detail, lost=len(wrong)
    )


async def post_fundings_once(platform: Platform, workload: Workload, bound_s: float) -> Check:
    linked = workload.fundings.linked

    async def statuses() -> dict[str, str]:
        async with connected(platform, "funding") as db:
            rows = await db.fetch("SELECT id, status FROM fundings WHERE id = ANY($1)", [f.funding_id for f in linked])
        return {row["id"]: row["status"] for row in rows}

    async def unpaid() -> str | None:
        waiting = [f for f, s in (await statuses()).items() if s != "paid_out"]
        return f"{len(waiting)} fundings not paid out: {waiting[:3]}" if waiting else None

    problem = await settled(unpaid, bound_s)
    references = [f"funding:{f.funding_id}:payable:{p}" for f in linked for p in f.payables]
    credits = await applied(platform, references)
    async with connected(platform, "funding") as db:
        deposits = await db.fetch(
            "SELECT transfer_id, count(*) AS n FROM deposits WHERE transfer_id = ANY($1) GROUP BY transfer_id",
            [f.transfer_id for f in linked],
        )
    wrong = [r for r in references if credits[r] != 1]
    wrong += [f"deposit {row['transfer_id']} {row['n']}x" for row in deposits if row["n"] != 1]
    headers = {"X-API-Key": platform.api_key}
    async with httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger:
        for funding in linked:
            for payee, amount_minor in funding.payables.values():
                wallet = (await ledger.get(f"/balances/indicator/wallet:{payee}/currency/USD")).json()
                if wallet.get("balance") != amount_minor:
                    wrong.append(f"wallet of {payee}: {wallet.get('balance')}, expected {amount_minor}")
    if wrong:
        problem = f"{len(wrong)} wrong: {wrong[:3]}"
    detail = f"{len(linked)} fundings, {len(references)} payables paid once"
    return check(
        "post-fundings: each linked one paid out, each payable credited once", problem, detail, lost=len(wrong)
    )


async def ledger_commands_once(platform: Platform, workload: Workload, bound_s: float) -> Check:
    commands = workload.commands
    headers = {"X-API-Key": platform.api_key}

    async def differences() -> str | None:
        found = await applied(platform, commands.references)
        missing = [r for r in commands.references if found[r] != 1]
        if missing:
            return f"{len(missing)} commands not applied once: {missing[:3]}"
        async with httpx.AsyncClient(base_url=platform.url("ledger"), headers=headers, timeout=30) as ledger:
            for indicator, want in commands.expected.items():
                balance = (await ledger.get(f"/balances/indicator/{indicator}/currency/USD")).json().get("balance")
                if balance != want:
                    return f"{indicator} holds {balance}, its acknowledged commands {want}"
        return None

    problem = await settled(differences, bound_s) if commands.references else None
    return check(
        "ledger transfers by Kafka: each acknowledged command applied once",
        problem,
        f"{len(commands.references)} commands, {len(commands.expected)} balances",
        lost=0 if problem is None else 1,
    )


async def no_hold_of_a_finished_workflow(platform: Platform) -> Check:
    """Every hold still open belongs to a withdrawal or an authorization that is still under way."""
    holds = await open_holds(platform)
    owners: dict[str, str] = {}
    async with connected(platform, "payout") as db:
        for row in await db.fetch("SELECT id, status FROM withdrawals"):
            owners[f"payout:{row['id']}:"] = row["status"]
    async with connected(platform, "authorization") as db:
        for row in await db.fetch("SELECT id, status FROM authorizations"):
            owners[f"authorization:{row['id']}:"] = row["status"]
    stray: list[str] = []
    for reference in holds:
        prefix = ":".join(reference.split(":")[:2]) + ":"  # `payout:wd_...:` or `authorization:cau_...:`
        status = owners.get(prefix)
        if (
            status is None
            or status in FINISHED_WITHDRAWALS
            or (prefix.startswith("authorization:") and status not in HOLDING_AUTHORIZATIONS)
        ):
            stray.append(f"{reference} ({status or 'no owner'})")
    problem = f"{len(stray)} open holds of finished workflows: {stray[:3]}" if stray else None
    return check(
        "no inflight hold belongs to a finished workflow",
        problem,
        f"{len(holds)} holds open, each of an approved authorization or a withdrawal under way",
    )
