"""`python -m clearway.ledger.verify`: silent on sound books, loud (exit 1) on every kind of damage."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import asyncpg

from clearway.ledger.adapters.posting_store import SqlPostingUnitOfWork
from clearway.ledger.domain.distribution import Distribution
from clearway.ledger.domain.transactions import TransferRequest
from clearway.ledger.service import catalog
from clearway.ledger.service.posting.operations import CommitHold, Operation, Refund, Transfer
from clearway.ledger.service.posting.pipeline import execute_batch
from clearway.ledger.verify import VerificationReport, verify_ledger
from clearway.platform.ids import new_id

CLI_TIMEOUT_S = 60


async def run_cli(*arguments: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearway.ledger.verify",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def transfer(source: str, destination: str, amount_minor: int, **options: Any) -> Transfer:
    return Transfer(
        TransferRequest(
            reference=new_id("ref"),
            currency=options.pop("currency", "USD"),
            amount_minor=amount_minor,
            currency_precision=100,
            source=source,
            destination=destination,
            **options,
        )
    )


async def build_books(pool: asyncpg.Pool) -> dict[str, str]:
    """A little of everything: funding, a split, a hold partly committed, a refund, a rejection."""
    names = ["alice", "bob", "carol", "euro"]
    ids: dict[str, str] = {}
    for name in names:
        row, _ = await catalog.create_balance(
            pool,
            ledger_id="general_ledger_id",
            identity_id=None,
            currency="EUR" if name == "euro" else "USD",
            indicator=None,
            meta_data={},
        )
        ids[name] = row["balance_id"]
    first: list[Operation] = [
        transfer("@World", ids["alice"], 10_000, allow_overdraft=True),
        transfer("@World", ids["euro"], 500, currency="EUR", allow_overdraft=True),
        transfer(ids["alice"], ids["bob"], 1_000),
        transfer(ids["alice"], ids["carol"], 2_000, inflight=True),
        transfer(ids["bob"], ids["carol"], 5_000),  # rejected: bob has 1,000
    ]
    results = await execute_batch(SqlPostingUnitOfWork(pool), first)
    assert [r.unwrap().status.value for r in results] == ["APPLIED", "APPLIED", "APPLIED", "INFLIGHT", "REJECTED"]
    payment, hold = results[2].unwrap(), results[3].unwrap()
    split = Transfer(
        TransferRequest(
            reference=new_id("ref"),
            currency="USD",
            amount_minor=900,
            currency_precision=100,
            source=ids["alice"],
            destinations=(Distribution(ids["bob"], "50%"), Distribution(ids["carol"], "left")),
        )
    )
    second = await execute_batch(
        SqlPostingUnitOfWork(pool), [CommitHold(hold.transaction_id, 750), Refund(payment.transaction_id), split]
    )
    assert [r.unwrap().status.value for r in second] == ["APPLIED", "APPLIED", "APPLIED"]
    ids["hold"] = hold.transaction_id
    return ids


async def report_for(pool: asyncpg.Pool) -> VerificationReport:
    async with pool.acquire() as connection:
        return await verify_ledger(connection)


async def test_sound_books_verify_with_exit_zero(ledger_pool: asyncpg.Pool, ledger_database_url: str) -> None:
    await build_books(ledger_pool)
    code, text, _ = await run_cli("--database-url", ledger_database_url)
    assert code == 0, text
    assert "OK: every balance equals its entries" in text and "USD applied" in text
    # The URL defaults to the service's own setting.
    code, output, _ = await run_cli("--json", env={"CLEARWAY_LEDGER_DATABASE_URL": ledger_database_url})
    assert code == 0, output
    report = json.loads(output)
    assert report["ok"] is True and report["differences"] == [] and report["anomalies"] == []
    assert {(t["currency"], t["bucket"]) for t in report["totals"]} == {
        ("USD", "applied"),
        ("USD", "inflight"),
        ("EUR", "applied"),
    }
    assert all(t["balanced"] for t in report["totals"])
    assert report["counts"]["holds"] == 1


async def test_a_corrupted_balance_is_reported_with_exit_one(
    ledger_pool: asyncpg.Pool, ledger_database_url: str
) -> None:
    ids = await build_books(ledger_pool)
    async with ledger_pool.acquire() as connection:
        await connection.execute(
            "UPDATE balances SET credit_balance = credit_balance + 7 WHERE balance_id = $1", ids["bob"]
        )
    code, output, _ = await run_cli("--database-url", ledger_database_url, "--json")
    assert code == 1, output
    report = json.loads(output)
    assert report["ok"] is False
    (difference,) = [d for d in report["differences"] if d["column"] == "credit_balance"]
    assert difference["balance_id"] == ids["bob"] and difference["basis"] == "entries"
    assert difference["stored_minor"] - difference["expected_minor"] == 7
    code, text, _ = await run_cli("--database-url", ledger_database_url)
    assert code == 1
    assert ids["bob"] in text and "credit_balance" in text and "FAILED" in text


async def test_every_kind_of_damage_is_found(ledger_pool: asyncpg.Pool) -> None:
    ids = await build_books(ledger_pool)
    assert (await report_for(ledger_pool)).ok
    damages = [
        # An inflight column off: it disagrees with the journal and with the open holds.
        (
            "UPDATE balances SET inflight_debit_balance = inflight_debit_balance + 5 WHERE balance_id = $1",
            "UPDATE balances SET inflight_debit_balance = inflight_debit_balance - 5 WHERE balance_id = $1",
            ids["alice"],
            {("inflight_debit_balance", "entries"), ("inflight_debit_balance", "open holds")},
            set(),
        ),
        # A hold that claims more was committed than its entries moved.
        (
            "UPDATE holds SET committed_minor = committed_minor + 1 WHERE transaction_id = $1",
            "UPDATE holds SET committed_minor = committed_minor - 1 WHERE transaction_id = $1",
            ids["hold"],
            {("inflight_debit_balance", "open holds"), ("inflight_credit_balance", "open holds")},
            set(),
        ),
        # A one-sided journal line: the currency stops balancing and so does its transaction.
        (
            "INSERT INTO entries (transaction_id, balance_id, currency, bucket, debit_minor, credit_minor, "
            "effective_at) VALUES ('txn_forged', $1, 'USD', 'applied', 0, 3, now())",
            "DELETE FROM entries WHERE transaction_id = 'txn_forged' AND balance_id = $1",
            ids["carol"],
            {("credit_balance", "entries")},
            {"unbalanced transaction"},
        ),
        # A hold row without its INFLIGHT transaction status.
        (
            "UPDATE transactions SET status = 'APPLIED' WHERE transaction_id = $1",
            "UPDATE transactions SET status = 'INFLIGHT' WHERE transaction_id = $1",
            ids["hold"],
            set(),
            {"hold without an INFLIGHT transaction"},
        ),
    ]
    for damage, repair, subject, expected_differences, expected_anomalies in damages:
        async with ledger_pool.acquire() as connection:
            await connection.execute(damage, subject)
        report = await report_for(ledger_pool)
        assert not report.ok, damage
        assert {(d.column, d.basis) for d in report.differences} == expected_differences, report.as_json()
        assert {a.kind for a in report.anomalies} == expected_anomalies, report.as_json()
        if "entries (" in damage:
            assert [t.currency for t in report.unbalanced_totals] == ["USD"]
        async with ledger_pool.acquire() as connection:
            await connection.execute(repair, subject)
        assert (await report_for(ledger_pool)).ok, repair


async def test_an_unreachable_database_exits_two() -> None:
    code, _, error = await run_cli("--database-url", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert code == 2 and "could not run" in error
